"""audit-grader: the same generations through creval's grader and the usual alternatives."""
import json

from conftest import SHARED

from creval.audit import ALTERNATIVES, audit, read_generations
from creval.cli.main import main
from creval.runner import load_task

SPEC = f"gsm8k:data={SHARED / 'gsm8k' / 'test.jsonl'}:limit=3"


def test_each_grader_reads_what_it_should():
    assert ALTERNATIVES["lm-eval-strict"]("18", "work\n#### 18") == ("18", True)
    assert ALTERNATIVES["lm-eval-strict"]("18", "The answer is 18.") == (None, False)
    assert ALTERNATIVES["lm-eval-flexible"]("18", "I had 3, then $18.") == ("$18.", True)
    assert ALTERNATIVES["lm-eval-flexible"]("18", "18 apples, not 3") == ("3", False)
    assert ALTERNATIVES["exact"]("18", "\\boxed{18.0}") == ("18.0", False)
    assert ALTERNATIVES["math-verify"]("18", "\\boxed{18.0}")[1] is True


def test_audit_lists_exactly_the_disagreements(tmp_path, capsys):
    gens = tmp_path / "gens.jsonl"
    gens.write_text("\n".join(json.dumps(r) for r in [
        {"prompt_id": "gsm8k-0000", "samples": ["#### 18", "so \\boxed{18.0}"]},
        {"prompt_id": "gsm8k-0001", "text": "#### 3"},
    ]))
    rows = audit(load_task(SPEC), read_generations(gens))
    assert [r.disagrees for r in rows] == [False, True, False]
    assert [r.rule for r in rows] == ["hash", "boxed", "hash"]
    assert rows[1].verdicts == {"creval": True, "exact": False, "lm-eval-strict": False,
                                "lm-eval-flexible": False, "math-verify": True}
    assert main(["audit-grader", "--task", SPEC, "--generations", str(gens), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["samples"] == 3 and len(data["disagreements"]) == 1 and data["graders"]["creval"]["accuracy"] == 1.0
    assert data["rules"] == {"hash": 2, "boxed": 1}
    assert main(["audit-grader", "--task", SPEC, "--generations", str(gens)]) == 0
    out = capsys.readouterr().out
    assert "creval's answer came from: hash 2 (67%), boxed 1 (33%)" in out
    assert "1 samples where the graders disagree" in out and "gsm8k-0000 #1" in out


def test_audit_reads_a_stored_cell(tmp_path, tiny_ckpt, capsys):
    import creval
    from creval.records import GenerationConfig

    cell = creval.run(str(tiny_ckpt), [SPEC], GenerationConfig(n=2, max_new_tokens=6), out=str(tmp_path)).cells[0]
    assert sum(len(v) for v in read_generations(tmp_path / "cells" / cell.cell_key).values()) == 6
    assert main(["audit-grader", "--task", SPEC, "--generations", cell.path, "--json"]) == 0


def test_audit_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt_id": "gsm8k-0000", "text": "ok"}\n{"text": 1}\n')
    assert main(["audit-grader", "--task", SPEC, "--generations", str(bad)]) == 2
    assert f"{bad}:2: expected" in capsys.readouterr().err
    stray = tmp_path / "stray.jsonl"
    stray.write_text('{"prompt_id": "nope", "text": "1"}\n')
    assert main(["audit-grader", "--task", SPEC, "--generations", str(stray)]) == 2
    assert "not in task" in capsys.readouterr().err
    assert main(["audit-grader", "--task", "mini_writing", "--generations", str(stray)]) == 2
    assert "compares math graders" in capsys.readouterr().err
