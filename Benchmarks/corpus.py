#!/usr/bin/env python3
"""Deterministic message corpora for the benchmarks (scripts/bench).

    corpus.py files DIR COUNT --prefix P [--committees C] [--first F]
        COUNT one-message files DIR/P-0000001.json: a courier's drop
    corpus.py jsonl DIR COUNT --prefix P [--files N] [--committees C] [--first F] [--describe]
        COUNT messages, one per line, in N files DIR/P-001.jsonl: an export
    corpus.py requests FILE COUNT --workplaces W
        COUNT GetWorkplace calls (NUL-terminated Varlink), for the query bench

The model: each workplace has a strike committee, and a committee reports on
its own workplace (workplace and strike reports, its delegates' elections,
recalls and fate, the demands it adopts and their outcomes, the actions it
joins); a few council committees form councils, propose demands and call
actions that every workplace names. Committee i is origin `P-cNNNNNNN` and its
workplace is `wNNNNNNN`, so corpora with different prefixes never collide but
do talk about the same workplaces. Every message is valid (format v1,
docs/messages.md) and distinct.

`files` (a week of reports from C committees, 200 by default) interleaves the
committees at random, as files dropped by many couriers arrive. `jsonl` writes
each committee's messages together in seq order, as an export from another
strikecd would (`--interleave` shuffles them too); `--describe` makes every committee's first message describe
its workplace, so that a store holding the corpus has C described workplaces.
`--first F` numbers the committees from F.

`--random-subjects` instead has every message name a workplace drawn at random
from all C (the worst case for locality; see docs/performance.md).
"""
import argparse
import json
import os
import random

KINDS = ["factory", "plant", "mine", "office", "it", "transport", "hospital", "school", "university", "shop", "other"]
STRIKE = ["working", "strike", "partial", "go-slow", "work-to-rule", "lockout"]
TOWNS = ["Minsk", "Grodno", "Brest", "Gomel", "Mogilev", "Vitebsk", "Soligorsk", "Zhodino", "Novopolotsk", "Lida"]
REGIONS = ["Minsk", "Grodno", "Brest", "Gomel", "Mogilev", "Vitebsk"]
DELEGATE_STATUS = ["detained", "missing", "released", "resigned", "active"]
OUTCOMES = ["presented", "negotiating", "won", "rejected", "withdrawn"]
COUNCILS = 50
DEMANDS = 40
ACTIONS = 20
DELEGATES_PER_WORKPLACE = 3

# Committees' own messages, by weight.
MIX = [("strike.reported", 34), ("workplace.reported", 14), ("delegate.elected", 10), ("delegate.status", 10),
       ("demand.adopted", 12), ("demand.outcome", 8), ("action.joined", 9), ("delegate.recalled", 3)]
TYPES = [t for t, _ in MIX]
WEIGHTS = [w for _, w in MIX]


def workplace(i):
    return "w%07d" % i


def sent_at(rng, i):
    # Spread over August-September 2020, in one of three offsets.
    minutes = rng.randrange(60 * 24 * 50)
    day, rest = divmod(minutes, 60 * 24)
    hour, minute = divmod(rest, 60)
    month, day = (8, day + 1) if day < 31 else (9, day - 30)
    offset = ("Z", "+03:00", "+01:00")[i % 3]
    return "2020-%02d-%02dT%02d:%02d:%02d%s" % (month, day, hour, minute, i % 60, offset)


def votes(rng):
    against = rng.randrange(0, 200)
    return {"for": against + 1 + rng.randrange(0, 400), "against": against, "abstain": rng.randrange(0, 50)}


def data_for(rng, kind, w, wi):
    delegate = "d%07d-%d" % (wi, rng.randrange(DELEGATES_PER_WORKPLACE))
    if kind == "workplace.reported":
        return {"workplace": w, "name": "Works No. %d" % wi, "kind": KINDS[wi % len(KINDS)],
                "sector": "machine building", "town": TOWNS[wi % len(TOWNS)], "region": REGIONS[wi % len(REGIONS)],
                "ownership": rng.choice(["state", "private", "mixed"]), "headcount": rng.randrange(50, 20000)}
    if kind == "strike.reported":
        return {"workplace": w, "status": rng.choice(STRIKE), "participants": rng.randrange(0, 5000)}
    if kind == "delegate.elected":
        v = votes(rng)
        return {"delegate": delegate, "workplace": w, "council": "council-%02d" % (wi % COUNCILS), "votes": v,
                "quorum": min(100, v["for"] + v["against"] + v["abstain"])}
    if kind == "delegate.status":
        return {"delegate": delegate, "status": rng.choice(DELEGATE_STATUS)}
    if kind == "delegate.recalled":
        return {"delegate": delegate, "workplace": w, "votes": votes(rng)}
    if kind == "demand.adopted":
        return {"demand": "demand-%02d" % rng.randrange(DEMANDS), "workplace": w, "votes": votes(rng)}
    if kind == "demand.outcome":
        return {"demand": "demand-%02d" % rng.randrange(DEMANDS), "workplace": w, "outcome": rng.choice(OUTCOMES)}
    if kind == "action.joined":
        return {"action": "action-%02d" % rng.randrange(ACTIONS), "workplace": w, "participants": rng.randrange(0, 3000)}
    raise ValueError(kind)


def council_message(rng, n):
    """The councils' own messages: forming councils, proposing demands, calling actions."""
    kind = ("council.formed", "demand.proposed", "action.called")[n % 3]
    if kind == "council.formed":
        return kind, {"council": "council-%02d" % (n // 3 % COUNCILS), "name": "Strike council", "level": "regional",
                      "area": rng.choice(REGIONS)}
    if kind == "demand.proposed":
        return kind, {"demand": "demand-%02d" % (n // 3 % DEMANDS), "category": rng.choice(["economic", "democratic"]),
                      "text": "Fair pay, no dismissals for striking, and the release of everyone detained."}
    return kind, {"action": "action-%02d" % (n // 3 % ACTIONS), "kind": "general-strike",
                  "starts_at": "2020-10-26T00:00:00+03:00", "hours": 48, "demands": ["demand-01", "demand-02"],
                  "text": "General strike until the demands are met."}


def generate(count, prefix, committees, first, seed, interleave, describe, random_subjects):
    """Returns `count` message lines: committees' messages and 1 in 200 from councils."""
    rng = random.Random("%s-%d" % (prefix, seed))
    councils = max(1, count // 200)
    own = count - councils
    per = [own // committees + (1 if c < own % committees else 0) for c in range(committees)]
    kinds = rng.choices(TYPES, WEIGHTS, k=own)
    lines = []
    k = 0
    for c in range(committees):
        wi = first + c
        origin = "%s-c%07d" % (prefix, wi)
        for seq in range(1, per[c] + 1):
            kind = "workplace.reported" if describe and seq == 1 else kinds[k]
            subject = rng.randrange(first, first + committees) if random_subjects else wi
            message = {"v": 1, "origin": origin, "seq": seq, "sent_at": sent_at(rng, k), "type": kind,
                       "data": data_for(rng, kind, workplace(subject), subject)}
            lines.append(json.dumps(message, separators=(",", ":"), ensure_ascii=False))
            k += 1
    for n in range(councils):
        kind, data = council_message(rng, n)
        message = {"v": 1, "origin": "%s-council" % prefix, "seq": n + 1, "sent_at": sent_at(rng, n), "type": kind,
                   "data": data}
        lines.append(json.dumps(message, separators=(",", ":"), ensure_ascii=False))
    if interleave:
        rng.shuffle(lines)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["files", "jsonl", "requests"])
    parser.add_argument("target")
    parser.add_argument("count", type=int)
    parser.add_argument("--prefix", default="b")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--committees", type=int, default=200)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--workplaces", type=int, default=100000)
    parser.add_argument("--describe", action="store_true")
    parser.add_argument("--random-subjects", action="store_true")
    parser.add_argument("--interleave", action="store_true", help="shuffle a .jsonl corpus's lines across committees")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.what == "requests":
        rng = random.Random(args.seed)
        with open(args.target, "wb") as out:
            for _ in range(args.count):
                call = {"method": "org.strikecd.Query.GetWorkplace", "parameters": {"id": workplace(rng.randrange(args.workplaces))}}
                out.write(json.dumps(call, separators=(",", ":")).encode() + b"\0")
        return
    os.makedirs(args.target, exist_ok=True)
    lines = generate(args.count, args.prefix, args.committees, args.first, args.seed,
                     interleave=args.what == "files" or args.interleave or args.random_subjects, describe=args.describe,
                     random_subjects=args.random_subjects)
    if args.what == "files":
        for i, line in enumerate(lines):
            with open(os.path.join(args.target, "%s-%07d.json" % (args.prefix, i)), "w") as f:
                f.write(line + "\n")
    else:
        per_file = -(-len(lines) // args.files)
        for n in range(args.files):
            with open(os.path.join(args.target, "%s-%03d.jsonl" % (args.prefix, n)), "w") as f:
                f.write("".join(line + "\n" for line in lines[n * per_file:(n + 1) * per_file]))


if __name__ == "__main__":
    main()
