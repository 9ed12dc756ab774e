"""Trains the trace reward model on ETA preference pairs and exports it to ONNX.

    /usr/bin/python3 models/trainer/train.py [--pairs models/reward/data/pairs.jsonl]
        [--out models/reward] [--epochs 600] [--seed 0] [--heldout 0.2] [--device auto|cpu|cuda]

Input: the pairs written by `npm run reward:data` (one JSON object per line:
problem_id, rule, chosen, rejected feature vectors) and features.json beside
them (the feature names, their order, their version).

The model R: features → reward is a small MLP trained with the ETA loss
-log σ(R(chosen) − R(rejected)), plus a small penalty λ·mean(R²) that keeps
the rewards centred on 0 and on a scale of a few units: the pair loss alone
is indifferent to scale and, with separable pairs, pushes rewards to the
hundreds, where the server's logistic squash can no longer tell two good
programs apart. Problems are split, not pairs: the held-out
accuracy is on problems the model never saw. Outputs, in --out:
  reward.onnx     features: float32[batch, D] → reward: float32[batch]
  metadata.json   the features (names, order, version), the data, the counts,
                  the accuracies, the command that made it
  heldout.jsonl   the held-out pairs with this model's scores (the server's
                  scores must rank them the same way)
Runs on the CPU with Debian's python3-torch; on a GPU when one is there.
"""

import argparse
import hashlib
import json
import os
import random
import sys

import torch
from torch import nn

from datasplit import load_jsonl, split_problems


class RewardModel(nn.Module):
    def __init__(self, dimension):
        super().__init__()
        self.network = nn.Sequential(nn.Linear(dimension, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, features):
        return self.network(features).squeeze(-1)


def tensors(rows, device):
    chosen = torch.tensor([row["chosen"] for row in rows], dtype=torch.float32, device=device)
    rejected = torch.tensor([row["rejected"] for row in rows], dtype=torch.float32, device=device)
    return chosen, rejected


def accuracy(model, chosen, rejected):
    with torch.no_grad():
        return float((model(chosen) > model(rejected)).float().mean().item()) if len(chosen) else float("nan")


def main():
    parser = argparse.ArgumentParser(description="Train the tracefix reward model.")
    parser.add_argument("--pairs", default="models/reward/data/pairs.jsonl")
    parser.add_argument("--out", default="models/reward")
    parser.add_argument("--epochs", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heldout", type=float, default=0.2)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--reward-penalty", type=float, default=0.00001, help="λ of the λ·mean(R²) centring term")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    arguments = parser.parse_args()

    random.seed(arguments.seed)
    torch.manual_seed(arguments.seed)
    device = "cuda" if arguments.device == "cuda" or (arguments.device == "auto" and torch.cuda.is_available()) else "cpu"

    with open(os.path.join(os.path.dirname(arguments.pairs), "features.json"), encoding="utf-8") as handle:
        features = json.load(handle)
    rows = load_jsonl(arguments.pairs)
    dimension = len(features["names"])
    if any(len(row["chosen"]) != dimension or len(row["rejected"]) != dimension for row in rows):
        sys.exit(f"pairs do not have {dimension} features each (features.json)")
    problems = sorted({row["problem_id"] for row in rows})
    held = split_problems(problems, arguments.heldout, arguments.seed)
    train_rows = [row for row in rows if row["problem_id"] not in held]
    held_rows = [row for row in rows if row["problem_id"] in held]

    model = RewardModel(dimension).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=arguments.learning_rate, weight_decay=1e-4)
    chosen, rejected = tensors(train_rows, device)
    for epoch in range(arguments.epochs):
        optimizer.zero_grad()
        reward_chosen = model(chosen)
        reward_rejected = model(rejected)
        loss = -torch.nn.functional.logsigmoid(reward_chosen - reward_rejected).mean()
        loss = loss + arguments.reward_penalty * (reward_chosen.pow(2).mean() + reward_rejected.pow(2).mean()) / 2
        loss.backward()
        optimizer.step()
        if epoch % 100 == 0 or epoch == arguments.epochs - 1:
            print(f"epoch {epoch:4d}  loss {loss.item():.4f}  train accuracy {accuracy(model, chosen, rejected):.4f}", file=sys.stderr)

    model = model.to("cpu").eval()
    chosen, rejected = tensors(train_rows, "cpu")
    held_chosen, held_rejected = tensors(held_rows, "cpu")
    train_accuracy = accuracy(model, chosen, rejected)
    with torch.no_grad():
        train_rewards = torch.cat([model(chosen), model(rejected)])
    reward_range = {"min": round(float(train_rewards.min()), 3), "max": round(float(train_rewards.max()), 3)}
    held_accuracy = accuracy(model, held_chosen, held_rejected)
    by_rule = {}
    for rule in sorted({row["rule"] for row in held_rows}):
        subset = [row for row in held_rows if row["rule"] == rule]
        c, r = tensors(subset, "cpu")
        by_rule[rule] = {"pairs": len(subset), "accuracy": round(accuracy(model, c, r), 4)}

    os.makedirs(arguments.out, exist_ok=True)
    onnx_path = os.path.join(arguments.out, "reward.onnx")
    torch.onnx.export(
        model,
        torch.zeros(1, dimension, dtype=torch.float32),
        onnx_path,
        input_names=["features"],
        output_names=["reward"],
        dynamic_axes={"features": {0: "batch"}, "reward": {0: "batch"}},
        opset_version=13,
    )
    import onnx

    onnx.checker.check_model(onnx.load(onnx_path))

    with open(os.path.join(arguments.out, "heldout.jsonl"), "w", encoding="utf-8") as handle:
        with torch.no_grad():
            scores_chosen = model(held_chosen).tolist()
            scores_rejected = model(held_rejected).tolist()
        for row, score_chosen, score_rejected in zip(held_rows, scores_chosen, scores_rejected):
            handle.write(json.dumps({**row, "chosen_score": score_chosen, "rejected_score": score_rejected}) + "\n")

    with open(arguments.pairs, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    metadata = {
        "model": "reward.onnx",
        "feature_version": features["version"],
        "feature_names": features["names"],
        "input": {"name": "features", "type": "float32", "shape": ["batch", dimension]},
        "output": {"name": "reward", "type": "float32", "shape": ["batch"]},
        "data": {
            "pairs": os.path.relpath(arguments.pairs, arguments.out),
            "sha256": digest,
            "problems": {"train": len(problems) - len(held), "heldout": len(held)},
            "heldout_problems": sorted(held),
            "pairs_count": {"train": len(train_rows), "heldout": len(held_rows)},
            "by_rule": {rule: sum(1 for row in rows if row["rule"] == rule) for rule in sorted({row["rule"] for row in rows})},
        },
        "training": {
            "architecture": f"MLP {dimension}-32-16-1, ReLU",
            "loss": f"-log sigmoid(R(chosen) - R(rejected)) + {arguments.reward_penalty} * mean(R^2)",
            "optimizer": f"Adam, lr {arguments.learning_rate}, weight decay 1e-4, full batch",
            "epochs": arguments.epochs,
            "seed": arguments.seed,
            "device": device,
            "torch": torch.__version__,
        },
        "reward_range_on_train": reward_range,
        "accuracy": {"train": round(train_accuracy, 4), "heldout": round(held_accuracy, 4), "heldout_by_rule": by_rule},
        "command": "npm run reward:data && npm run reward:train",
    }
    with open(os.path.join(arguments.out, "metadata.json"), "w", encoding="utf-8") as handle:
        json.dump(metadata, handle, indent=2)
        handle.write("\n")
    print(json.dumps({"heldout_accuracy": round(held_accuracy, 4), "train_accuracy": round(train_accuracy, 4), "by_rule": by_rule, "device": device}))


if __name__ == "__main__":
    main()
