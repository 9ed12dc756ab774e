"""Trains the repair search's policy model on groups of candidate edits and exports it to ONNX.

    /usr/bin/python3 models/trainer/train_policy.py [--groups models/policy/data/groups.jsonl]
        [--out models/policy] [--epochs 40] [--seed 0] [--heldout 0.2] [--device auto|cpu|cuda]

Input: the groups written by `npm run policy:data` (one JSON object per line:
problem_id, source, features (one row per candidate edit, in the order the
editor gave them), labels (1: the edit that turns the mutant back into the
reference program, else 0), hand_rank_of_fix) and features.json beside them
(the feature names, their order, their version: src/policy/repair/features.ts).

The model S: features → score is a small MLP (inputs standardised by the
training rows' mean and deviation, inside the model) trained with a listwise
softmax loss: per group, -log of the softmax mass on the fix, i.e.
-(logsumexp(S[fixes]) - logsumexp(S[group])). The fix should get the highest
score of its group; only the order within a group matters. Problems are
split, not groups: the held-out figures are on problems the model never saw.
Outputs, in --out:
  policy.onnx     features: float32[batch, D] → score: float32[batch]
  metadata.json   the features (names, order, version), the data, the counts,
                  the held-out figures (rank of the fix, learned vs hand order),
                  the command that made it
  heldout.jsonl   a sample of held-out groups with this model's scores (the
                  server's scores must be the same)
Runs on the CPU with Debian's python3-torch; on a GPU when one is there.
"""

import argparse
import hashlib
import json
import math
import os
import random
import statistics
import sys
import time

import torch
from torch import nn

from datasplit import load_jsonl, split_problems

HIDDEN = (32, 16)
BUDGETS = (10, 50, 200)


class PolicyModel(nn.Module):
    def __init__(self, dimension, mean, scale):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("scale", scale)
        layers = []
        width = dimension
        for hidden in HIDDEN:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.network = nn.Sequential(*layers)

    def forward(self, features):
        return self.network((features - self.mean) / self.scale).squeeze(-1)


def padded(groups, device):
    """Groups as [G, L, D] features, [G, L] labels and [G, L] validity, L the largest group."""
    dimension = len(groups[0]["features"][0])
    length = max(len(group["labels"]) for group in groups)
    features = torch.zeros(len(groups), length, dimension, dtype=torch.float32)
    labels = torch.zeros(len(groups), length, dtype=torch.bool)
    valid = torch.zeros(len(groups), length, dtype=torch.bool)
    for index, group in enumerate(groups):
        size = len(group["labels"])
        features[index, :size] = torch.tensor(group["features"], dtype=torch.float32)
        labels[index, :size] = torch.tensor(group["labels"], dtype=torch.bool)
        valid[index, :size] = True
    return features.to(device), labels.to(device), valid.to(device)


def listwise_loss(scores, labels, valid):
    """Mean over groups of -log(softmax mass on the fixes)."""
    very_low = torch.finfo(scores.dtype).min / 4
    everything = torch.logsumexp(scores.masked_fill(~valid, very_low), dim=1)
    fixes = torch.logsumexp(scores.masked_fill(~(labels & valid), very_low), dim=1)
    return (everything - fixes).mean()


def rank_of_fix(scores, labels):
    """1-based position of the first fix when candidates are tried by score, highest first, ties in the editor's order."""
    order = sorted(range(len(scores)), key=lambda index: (-scores[index], index))
    for position, index in enumerate(order):
        if labels[index]:
            return position + 1
    return None


def figures(ranks):
    ranks = [rank for rank in ranks if rank is not None]
    if not ranks:
        return {}
    result = {"groups": len(ranks), "mean_rank": round(statistics.fmean(ranks), 2), "median_rank": statistics.median(ranks)}
    for budget in BUDGETS:
        result[f"top_{budget}"] = round(sum(1 for rank in ranks if rank <= budget) / len(ranks), 4)
    return result


def scores_of(model, groups):
    with torch.no_grad():
        return [model(torch.tensor(group["features"], dtype=torch.float32)).tolist() for group in groups]


def main():
    parser = argparse.ArgumentParser(description="Train the tracefix repair policy model.")
    parser.add_argument("--groups", default="models/policy/data/groups.jsonl")
    parser.add_argument("--out", default="models/policy")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-groups", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heldout", type=float, default=0.2)
    parser.add_argument("--learning-rate", type=float, default=0.003)
    parser.add_argument("--weight-decay", type=float, default=0.0001)
    parser.add_argument("--heldout-file-groups", type=int, default=40, help="held-out groups written with their scores to heldout.jsonl")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    arguments = parser.parse_args()

    started = time.monotonic()
    random.seed(arguments.seed)
    torch.manual_seed(arguments.seed)
    device = "cuda" if arguments.device == "cuda" or (arguments.device == "auto" and torch.cuda.is_available()) else "cpu"

    with open(os.path.join(os.path.dirname(arguments.groups), "features.json"), encoding="utf-8") as handle:
        features = json.load(handle)
    names = features["names"]
    dimension = len(names)
    if "hand_score" not in names:
        sys.exit("features.json has no hand_score feature: the hand order cannot be measured")
    hand_column = names.index("hand_score")
    groups = load_jsonl(arguments.groups)
    if not groups:
        sys.exit(f"{arguments.groups} holds no groups: run npm run policy:data first")
    for group in groups:
        if len(group["features"]) != len(group["labels"]) or any(len(row) != dimension for row in group["features"]):
            sys.exit(f"group of {group['problem_id']} does not have {dimension} features per candidate (features.json)")
        if not any(group["labels"]):
            sys.exit(f"group of {group['problem_id']} has no fix")
    problems = sorted({group["problem_id"] for group in groups})
    held = split_problems(problems, arguments.heldout, arguments.seed)
    train_groups = [group for group in groups if group["problem_id"] not in held]
    held_groups = [group for group in groups if group["problem_id"] in held]

    rows = torch.tensor([row for group in train_groups for row in group["features"]], dtype=torch.float32)
    mean = rows.mean(dim=0)
    scale = rows.std(dim=0)
    scale = torch.where(scale < 1e-6, torch.ones_like(scale), scale)
    model = PolicyModel(dimension, mean, scale).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=arguments.learning_rate, weight_decay=arguments.weight_decay)
    train_features, train_labels, train_valid = padded(train_groups, device)
    shuffler = random.Random(arguments.seed)
    indices = list(range(len(train_groups)))
    for epoch in range(arguments.epochs):
        shuffler.shuffle(indices)
        total = 0.0
        for start in range(0, len(indices), arguments.batch_groups):
            batch = torch.tensor(indices[start : start + arguments.batch_groups], device=device)
            optimizer.zero_grad()
            loss = listwise_loss(model(train_features[batch]), train_labels[batch], train_valid[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        if epoch % 5 == 0 or epoch == arguments.epochs - 1:
            print(f"epoch {epoch:3d}  loss {total / len(indices):.4f}", file=sys.stderr)
    training_seconds = time.monotonic() - started

    model = model.to("cpu").eval()
    train_scores = scores_of(model, train_groups)
    held_scores = scores_of(model, held_groups)

    def ranks(groups_, scores_):
        learned = [rank_of_fix(scores, group["labels"]) for group, scores in zip(groups_, scores_)]
        hand = [rank_of_fix([row[hand_column] for row in group["features"]], group["labels"]) for group in groups_]
        return learned, hand

    train_learned, train_hand = ranks(train_groups, train_scores)
    held_learned, held_hand = ranks(held_groups, held_scores)
    heldout_figures = {"learned": figures(held_learned), "hand": figures(held_hand)}
    train_figures = {"learned": figures(train_learned), "hand": figures(train_hand)}
    by_source = {}
    for source in sorted({group["source"] for group in held_groups}):
        chosen = [index for index, group in enumerate(held_groups) if group["source"] == source]
        by_source[source] = {"learned": figures([held_learned[i] for i in chosen]), "hand": figures([held_hand[i] for i in chosen])}
    heldout_figures["by_source"] = by_source
    # The data's own hand rank (computed from unrounded scores) against the one from the rounded feature.
    stored_hand_agrees = sum(1 for group, rank in zip(held_groups, held_hand) if group.get("hand_rank_of_fix") == rank)

    os.makedirs(arguments.out, exist_ok=True)
    onnx_path = os.path.join(arguments.out, "policy.onnx")
    torch.onnx.export(
        model,
        torch.zeros(1, dimension, dtype=torch.float32),
        onnx_path,
        input_names=["features"],
        output_names=["score"],
        dynamic_axes={"features": {0: "batch"}, "score": {0: "batch"}},
        opset_version=13,
    )
    import onnx

    onnx.checker.check_model(onnx.load(onnx_path))

    written = held_groups[: arguments.heldout_file_groups]
    with open(os.path.join(arguments.out, "heldout.jsonl"), "w", encoding="utf-8") as handle:
        for group, scores, learned, hand in zip(written, held_scores, held_learned, held_hand):
            handle.write(
                json.dumps(
                    {
                        "problem_id": group["problem_id"],
                        "source": group["source"],
                        "features": group["features"],
                        "labels": group["labels"],
                        "scores": scores,
                        "learned_rank_of_fix": learned,
                        "hand_rank_of_fix": hand,
                    }
                )
                + "\n"
            )

    with open(arguments.groups, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    candidates = {"train": sum(len(g["labels"]) for g in train_groups), "heldout": sum(len(g["labels"]) for g in held_groups)}
    metadata = {
        "model": "policy.onnx",
        "feature_version": features["version"],
        "feature_names": names,
        "input": {"name": "features", "type": "float32", "shape": ["batch", dimension]},
        "output": {"name": "score", "type": "float32", "shape": ["batch"]},
        # The data are edits of Python programs only: the server orders other languages' edits by hand.
        "languages": ["python"],
        "data": {
            "groups_file": os.path.relpath(arguments.groups, arguments.out),
            "sha256": digest,
            "problems": {"train": len(problems) - len(held), "heldout": len(held)},
            "heldout_problems": sorted(held),
            "groups": {"train": len(train_groups), "heldout": len(held_groups)},
            "candidates": candidates,
            "groups_by_source": {source: sum(1 for g in groups if g["source"] == source) for source in sorted({g["source"] for g in groups})},
            "heldout_file_groups": len(written),
        },
        "training": {
            "architecture": f"standardise, MLP {dimension}-{'-'.join(str(h) for h in HIDDEN)}-1, ReLU",
            "loss": "listwise softmax: -(logsumexp(S[fix]) - logsumexp(S[group])), mean over groups",
            "optimizer": f"Adam, lr {arguments.learning_rate}, weight decay {arguments.weight_decay}, {arguments.batch_groups} groups per step",
            "epochs": arguments.epochs,
            "seed": arguments.seed,
            "device": device,
            "torch": torch.__version__,
            "seconds": round(training_seconds, 1),
        },
        "rank_of_fix": {
            "note": "1-based position of the fix when a group's candidates are tried by score, highest first (ties: the editor's order); hand = the hand_score feature's order",
            "heldout": heldout_figures,
            "train": train_figures,
            "heldout_hand_rank_matches_data": round(stored_hand_agrees / max(1, len(held_groups)), 4),
        },
        "command": "npm run policy:data && npm run policy:train",
    }
    with open(os.path.join(arguments.out, "metadata.json"), "w", encoding="utf-8") as handle:
        json.dump(metadata, handle, indent=2)
        handle.write("\n")
    summary = {
        "heldout": {"learned": heldout_figures["learned"], "hand": heldout_figures["hand"]},
        "groups": {"train": len(train_groups), "heldout": len(held_groups)},
        "device": device,
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
