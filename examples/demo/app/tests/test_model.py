import unittest

from todo.model import Todo


class TodoTest(unittest.TestCase):
    def test_defaults(self) -> None:
        item = Todo(1, "Buy milk")
        self.assertEqual(item.priority, 2)
        self.assertFalse(item.done)

    def test_round_trip(self) -> None:
        item = Todo(3, "Write report", priority=1, done=True)
        self.assertEqual(Todo.from_dict(item.to_dict()), item)

    def test_bad_priority(self) -> None:
        with self.assertRaises(ValueError):
            Todo(1, "x", priority=5)


if __name__ == "__main__":
    unittest.main()
