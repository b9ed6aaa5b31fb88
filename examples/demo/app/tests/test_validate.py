import unittest

from todo.validate import MAX_TITLE, validate_title


class ValidateTest(unittest.TestCase):
    def test_strips(self) -> None:
        self.assertEqual(validate_title("  Buy milk "), "Buy milk")

    def test_rejects(self) -> None:
        for bad in ("", "   ", "x" * (MAX_TITLE + 1), "two\nlines"):
            with self.assertRaises(ValueError):
                validate_title(bad)


if __name__ == "__main__":
    unittest.main()
