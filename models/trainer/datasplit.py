"""What both trainers share: reading JSON Lines and splitting by problem."""

import hashlib
import json


def load_jsonl(path):
    """One JSON object per non-empty line."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def split_problems(problems, fraction, seed):
    """A deterministic split by problem: hash each id with the seed; the first `fraction` are held out."""

    def key(problem):
        return hashlib.sha256(f"{seed}:{problem}".encode()).hexdigest()

    ordered = sorted(problems, key=key)
    return set(ordered[: max(1, round(len(ordered) * fraction))])
