#!/usr/bin/env python3
"""Deterministic message corpora for the benchmarks (scripts/bench).

    corpus.py files DIR COUNT --prefix P [--workplaces W] [--seed S]
        COUNT one-message files DIR/P-0000001.json
    corpus.py jsonl DIR COUNT --prefix P [--files F] [--workplaces W] [--seed S]
        COUNT messages, one per line, in F files DIR/P-001.jsonl
    corpus.py requests FILE COUNT [--workplaces W] [--seed S]
        COUNT GetWorkplace calls (NUL-terminated Varlink), for the query bench

Every message is valid (format v1, docs/messages.md) and distinct: origins are
`P-cNNN` (200 committees, each numbering its messages 1, 2, 3, ...), so corpora
with different prefixes never collide. The mix of types follows what a courier
brings from two hundred workplaces: mostly strike and workplace reports, then
elections, delegate news, demands and actions, about W workplaces
(`--workplaces`). With `--describe-first` the first W messages describe the
workplaces w0000000 ... each once, so a store that took them
holds exactly W described workplaces (the query bench's 100,000).
"""
import argparse
import json
import os
import random

ORIGINS = 200
KINDS = ["factory", "plant", "mine", "office", "it", "transport", "hospital", "school", "university", "shop", "other"]
STRIKE = ["working", "strike", "partial", "go-slow", "work-to-rule", "lockout"]
TOWNS = ["Minsk", "Grodno", "Brest", "Gomel", "Mogilev", "Vitebsk", "Soligorsk", "Zhodino", "Novopolotsk", "Lida"]
REGIONS = ["Minsk", "Grodno", "Brest", "Gomel", "Mogilev", "Vitebsk"]
DELEGATE_STATUS = ["detained", "missing", "released", "resigned", "active"]
OUTCOMES = ["presented", "negotiating", "won", "rejected", "withdrawn"]
COUNCILS = 50
DEMANDS = 40
ACTIONS = 20


def workplace(i):
    return "w%07d" % i


def sent_at(rng, i):
    # Spread over August-September 2020, in one of three offsets.
    minutes = rng.randrange(60 * 24 * 50)
    day, rest = divmod(minutes, 60 * 24)
    hour, minute = divmod(rest, 60)
    month, day = (8, day + 1) if day < 31 else (9, day - 30)
    offset = ("Z", "+03:00", "+01:00")[i % 3]
    if offset == "+03:00":
        # Written in local time: same instant family, different text.
        return "2020-%02d-%02dT%02d:%02d:%02d+03:00" % (month, day, hour, minute, i % 60)
    return "2020-%02d-%02dT%02d:%02d:%02d%s" % (month, day, hour, minute, i % 60, offset)


def votes(rng, carried=True):
    against = rng.randrange(0, 200)
    yes = against + 1 + rng.randrange(0, 400) if carried else rng.randrange(0, against + 1)
    return {"for": yes, "against": against, "abstain": rng.randrange(0, 50)}


def data_for(rng, kind, workplaces, i):
    w = workplace(rng.randrange(workplaces))
    if kind == "workplace.reported":
        return {"workplace": w, "name": "Works No. %d" % rng.randrange(1000), "kind": rng.choice(KINDS),
                "sector": "machine building", "town": rng.choice(TOWNS), "region": rng.choice(REGIONS),
                "ownership": rng.choice(["state", "private", "mixed"]), "headcount": rng.randrange(50, 20000)}
    if kind == "strike.reported":
        return {"workplace": w, "status": rng.choice(STRIKE), "participants": rng.randrange(0, 5000)}
    if kind == "delegate.elected":
        v = votes(rng)
        return {"delegate": "d%06d" % rng.randrange(workplaces * 2), "workplace": w,
                "council": "council-%02d" % rng.randrange(COUNCILS), "votes": v,
                "quorum": min(100, v["for"] + v["against"] + v["abstain"])}
    if kind == "delegate.status":
        return {"delegate": "d%06d" % rng.randrange(workplaces * 2), "status": rng.choice(DELEGATE_STATUS)}
    if kind == "delegate.recalled":
        return {"delegate": "d%06d" % rng.randrange(workplaces * 2), "workplace": w, "votes": votes(rng)}
    if kind == "demand.adopted":
        return {"demand": "demand-%02d" % rng.randrange(DEMANDS), "workplace": w, "votes": votes(rng)}
    if kind == "demand.outcome":
        return {"demand": "demand-%02d" % rng.randrange(DEMANDS), "workplace": w, "outcome": rng.choice(OUTCOMES)}
    if kind == "action.joined":
        return {"action": "action-%02d" % rng.randrange(ACTIONS), "workplace": w, "participants": rng.randrange(0, 3000)}
    if kind == "council.formed":
        return {"council": "council-%02d" % rng.randrange(COUNCILS), "name": "Strike council", "level": "regional", "area": rng.choice(REGIONS)}
    if kind == "demand.proposed":
        return {"demand": "demand-%02d" % rng.randrange(DEMANDS), "category": rng.choice(["economic", "democratic"]),
                "text": "Demand text: fair pay, no dismissals for striking, and the release of everyone detained."}
    if kind == "action.called":
        return {"action": "action-%02d" % rng.randrange(ACTIONS), "kind": "general-strike",
                "starts_at": "2020-10-26T00:00:00+03:00", "hours": 48, "demands": ["demand-01", "demand-02"],
                "text": "General strike until the demands are met."}
    raise ValueError(kind)


MIX = [("strike.reported", 30), ("workplace.reported", 20), ("delegate.elected", 10), ("delegate.status", 10),
       ("demand.adopted", 10), ("demand.outcome", 6), ("action.joined", 8), ("delegate.recalled", 2),
       ("council.formed", 2), ("demand.proposed", 1), ("action.called", 1)]
TYPES = [t for t, _ in MIX]
WEIGHTS = [w for _, w in MIX]


def messages(count, prefix, workplaces, seed, describe_first=False):
    """Yields (index, line) for `count` distinct valid messages."""
    rng = random.Random("%s-%d" % (prefix, seed))
    seqs = [0] * ORIGINS
    kinds = rng.choices(TYPES, WEIGHTS, k=count)
    for i in range(count):
        o = i % ORIGINS
        seqs[o] += 1
        if describe_first and i < workplaces:
            kind = "workplace.reported"
            data = data_for(rng, kind, workplaces, i)
            data["workplace"] = workplace(i)
        else:
            kind = kinds[i]
            data = data_for(rng, kind, workplaces, i)
        message = {"v": 1, "origin": "%s-c%03d" % (prefix, o), "seq": seqs[o], "sent_at": sent_at(rng, i),
                   "type": kind, "data": data}
        yield i, json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["files", "jsonl", "requests"])
    parser.add_argument("target")
    parser.add_argument("count", type=int)
    parser.add_argument("--prefix", default="b")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--workplaces", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--describe-first", action="store_true", help="the first W messages describe the W workplaces")
    args = parser.parse_args()
    if args.what == "requests":
        rng = random.Random(args.seed)
        with open(args.target, "wb") as out:
            for _ in range(args.count):
                call = {"method": "org.strikecd.Query.GetWorkplace", "parameters": {"id": workplace(rng.randrange(args.workplaces))}}
                out.write(json.dumps(call, separators=(",", ":")).encode() + b"\0")
        return
    os.makedirs(args.target, exist_ok=True)
    if args.what == "files":
        for i, line in messages(args.count, args.prefix, args.workplaces, args.seed, args.describe_first):
            with open(os.path.join(args.target, "%s-%07d.json" % (args.prefix, i)), "w") as f:
                f.write(line + "\n")
    else:
        per_file = -(-args.count // args.files)
        out = None
        for i, line in messages(args.count, args.prefix, args.workplaces, args.seed, args.describe_first):
            if i % per_file == 0:
                if out:
                    out.close()
                out = open(os.path.join(args.target, "%s-%03d.jsonl" % (args.prefix, i // per_file)), "w")
            out.write(line + "\n")
        if out:
            out.close()


if __name__ == "__main__":
    main()
