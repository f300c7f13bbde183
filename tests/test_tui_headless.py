"""The headless commands never import Textual; importing the TUI's command module doesn't either."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from moechat.cli import main
rc = main({argv!r})
assert rc == 0, rc
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print("TEXTUAL:", loaded)
"""


def run(argv: list[str], cwd) -> str:
    r = subprocess.run([sys.executable, "-c", CHECK.format(argv=argv)], capture_output=True, text=True, cwd=cwd,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_generate_and_getp_do_not_import_textual(tmp_path):
    out = run(["generate", "--model", "synthetic:tiny", "--device", "cpu", "--kv-cache-gb", "0.02",
               "--max-tokens", "3", "--raw", "hello"], tmp_path)
    assert "TEXTUAL: []" in out
    (tmp_path / "in.txt").write_text("1\nhello world\n")
    out = run(["getp", str(tmp_path / "in.txt"), str(tmp_path / "out.txt"), "--model", "synthetic:tiny",
               "--device", "cpu", "--kv-cache-gb", "0.02", "-n", "8", "--quiet"], tmp_path)
    assert "TEXTUAL: []" in out
    assert (tmp_path / "out.txt").exists()


def test_bench_does_not_import_textual():
    # running `bench --quick` takes from seconds to minutes on a busy CPU; import everything it can reach
    code = ("import sys, importlib.util, moechat.cli, moechat.bench, moechat.engine.getp\n"
            "if importlib.util.find_spec('moechat.kernels.bench'): import moechat.kernels.bench\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "[]"


def test_tui_commands_module_is_light():
    r = subprocess.run([sys.executable, "-c", "import sys, moechat.tui.commands, moechat.tui.store, moechat.tui.export; "
                        "print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('textual','torch')))"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
