import tempfile
import unittest
from pathlib import Path

from todo.persist import load, save
from todo.store import TodoStore


class PersistTest(unittest.TestCase):
    def test_round_trip(self) -> None:
        store = TodoStore()
        store.add("Buy milk")
        store.complete(store.add("Call mum", priority=1).id)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "todos.json"
            save(store, path)
            again = load(path)
        self.assertEqual(again.all(), store.all())

    def test_missing_file_is_empty(self) -> None:
        self.assertEqual(load(Path("/nonexistent/todos.json")).all(), [])


if __name__ == "__main__":
    unittest.main()
