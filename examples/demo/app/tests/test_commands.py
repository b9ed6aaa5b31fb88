import contextlib
import io
import tempfile
import unittest
from pathlib import Path

from todo.commands import main


def run(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


class CommandsTest(unittest.TestCase):
    def test_add_list_done(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            file = str(Path(folder) / "todos.json")
            self.assertEqual(run("--file", file, "add", "Buy milk"), "added #1: Buy milk\n")
            run("--file", file, "add", "Call mum", "--priority", "1")
            self.assertEqual(run("--file", file, "done", "1"), "done #1: Buy milk\n")
            self.assertEqual(
                run("--file", file, "list"), "[ ] #2 (p1) Call mum\n[x] #1 (p2) Buy milk\n"
            )
            self.assertEqual(run("--file", file, "list", "--open"), "[ ] #2 (p1) Call mum\n")


if __name__ == "__main__":
    unittest.main()
