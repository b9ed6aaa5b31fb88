import contextlib
import io
import tempfile
import unittest
from pathlib import Path

from todo.commands import main


class ReportTest(unittest.TestCase):
    def test_report(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            file = str(Path(folder) / "todos.json")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main(["--file", file, "add", "a"])
                main(["--file", file, "add", "b"])
                main(["--file", file, "done", "2"])
                out.truncate(0)
                out.seek(0)
                main(["--file", file, "report"])
            self.assertEqual(out.getvalue(), "2 todos, 1 done (50%)\n")


if __name__ == "__main__":
    unittest.main()
