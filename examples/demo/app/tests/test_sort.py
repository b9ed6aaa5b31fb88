import unittest

from todo.model import Todo
from todo.sort import sort_todos


class SortTest(unittest.TestCase):
    def test_order(self) -> None:
        items = [Todo(1, "b", 2), Todo(2, "a", 2), Todo(3, "z", 1), Todo(4, "c", 1, done=True)]
        self.assertEqual([t.id for t in sort_todos(items)], [3, 2, 1, 4])


if __name__ == "__main__":
    unittest.main()
