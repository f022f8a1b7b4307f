"""Markdown table of ablation results: python -m training.summarize_ablations DIR"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    rows = [
        "| run | train pairs | XNLI dev | FEVER-Sym dev | RTE test acc (2-way) | SICK test acc "
        "| SICK macro-F1 | CF dev acc | CF dev macro-F1 | hard slice |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in sorted(Path(sys.argv[1]).glob("ablation_*.json"), key=lambda p: p.stat().st_mtime):
        r = json.loads(f.read_text())
        t = r["test_fp32"]
        dev = r.get("dev") or {}
        hard = r.get("hard_test_fp32", {}).get("all")

        def acc(m: dict | None) -> str:
            return f"{m['accuracy']:.3f}" if m else "–"

        rows.append(
            f"| {r['args']['ablation']} (sources {r['args']['sources']}, aug {r['args']['aug']}) "
            f"| {r['train_pairs']} | {acc(dev.get('xnli_dev'))} | {acc(dev.get('fever_sym_dev'))} "
            f"| {t['rte_test']['accuracy']:.3f} "
            f"| {t['sick_test']['accuracy']:.3f} | {t['sick_test']['macro_f1']:.3f} "
            f"| {t['cf_dev']['accuracy']:.3f} | {t['cf_dev']['macro_f1']:.3f} | {acc(hard)} |"
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
