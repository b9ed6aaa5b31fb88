import unittest
from pathlib import Path

from todo.cli import build_parser


class ParserTest(unittest.TestCase):
    def test_add(self) -> None:
        args = build_parser().parse_args(["--file", "x.json", "add", "Buy milk", "--priority", "1"])
        self.assertEqual((args.command, args.title, args.priority, args.file), ("add", "Buy milk", 1, Path("x.json")))

    def test_a_command_is_required(self) -> None:
        with self.assertRaises(SystemExit):
            build_parser().parse_args([])


if __name__ == "__main__":
    unittest.main()
