import unittest

from todo.model import Todo
from todo.stats import stats


class StatsTest(unittest.TestCase):
    def test_counts(self) -> None:
        result = stats([Todo(1, "a"), Todo(2, "b", done=True)])
        self.assertEqual((result.total, result.done, result.share_done), (2, 1, 0.5))

    def test_empty(self) -> None:
        self.assertEqual(stats([]).share_done, 0.0)


if __name__ == "__main__":
    unittest.main()
