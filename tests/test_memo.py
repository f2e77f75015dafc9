"""The per-process memo of values read from the database."""

from __future__ import annotations

from papercrane.memo import Memo


def test_a_memo_reads_what_it_lacks_and_reads_ahead_only_when_it_must_read() -> None:
    reads: list[list[int]] = []

    def read(keys: list[int]) -> dict[int, str]:
        reads.append(keys)
        return {key: f"v{key}" for key in keys if key != 4}  # 4 does not exist

    memo: Memo[int, str] = Memo(lambda: 60.0, size=100)
    assert memo.get_many([1], read, upcoming=[2, 3, 4, 5], read_ahead=3) == {1: "v1"}
    assert reads == [[1, 2, 3, 4]]
    assert memo.get_many([2, 3], read, upcoming=[5, 6], read_ahead=2) == {2: "v2", 3: "v3"}
    assert reads == [[1, 2, 3, 4]]  # all held: nothing read, nothing read ahead
    assert memo.get_many([1, 5], read, upcoming=[1, 2, 6], read_ahead=5) == {1: "v1", 5: "v5"}
    assert reads[-1] == [5, 6]  # what it holds is not read again
