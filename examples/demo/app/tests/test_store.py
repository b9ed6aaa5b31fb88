import unittest

from todo.store import TodoStore


class StoreTest(unittest.TestCase):
    def test_add_complete_remove(self) -> None:
        store = TodoStore()
        first = store.add("Buy milk")
        second = store.add("Call mum", priority=1)
        self.assertEqual([t.id for t in store.all()], [1, 2])
        store.complete(first.id)
        self.assertTrue(store.get(1).done)
        store.remove(second.id)
        self.assertEqual([t.title for t in store.all()], ["Buy milk"])
        self.assertEqual(store.add("Again").id, 3)

    def test_unknown_id(self) -> None:
        with self.assertRaises(KeyError):
            TodoStore().complete(7)

    def test_titles_are_validated(self) -> None:
        with self.assertRaises(ValueError):
            TodoStore().add("")


if __name__ == "__main__":
    unittest.main()
