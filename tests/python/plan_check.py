"""A check shared by the executor and memory-planner tests."""


def check_plan_is_valid(rep):
    """Blocks lie inside the arena, start on 64-byte lines, and two blocks that share any
    byte are never in use at the same step."""
    blocks = rep["blocks"]
    for b in blocks:
        assert b["offset"] % 64 == 0 and b["offset"] + b["bytes"] <= rep["planned_bytes"]
        assert b["steps"][0] <= b["steps"][1]
    for i, a in enumerate(blocks):
        for b in blocks[i + 1:]:
            share_bytes = (a["bytes"] and b["bytes"] and a["offset"] < b["offset"] + b["bytes"]
                           and b["offset"] < a["offset"] + a["bytes"])
            if share_bytes:
                assert a["steps"][1] < b["steps"][0] or b["steps"][1] < a["steps"][0], (a, b)
