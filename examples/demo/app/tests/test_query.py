import unittest

from todo.model import Todo
from todo.query import filter_todos

ITEMS = [Todo(1, "Buy milk"), Todo(2, "Buy bread", done=True), Todo(3, "Call mum")]


class QueryTest(unittest.TestCase):
    def test_by_state(self) -> None:
        self.assertEqual([t.id for t in filter_todos(ITEMS, done=False)], [1, 3])
        self.assertEqual([t.id for t in filter_todos(ITEMS, done=True)], [2])

    def test_by_text(self) -> None:
        self.assertEqual([t.id for t in filter_todos(ITEMS, text="BUY")], [1, 2])


if __name__ == "__main__":
    unittest.main()
