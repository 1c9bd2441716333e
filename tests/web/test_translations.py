"""Every text the UI marks for translation has its Chinese translation."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_marked_text_is_translated_to_chinese(tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    "babel.cfg", "-k", "_l", "-k", "say", "--ignore-dirs",
                    ".venv .git var bench tests migrations", "-o", str(template), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    po = ROOT / "webapp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        translated = {message.id for message in read_po(handle)
                      if message.id and message.string and not message.fuzzy}
    assert len(wanted) > 100
    assert sorted(wanted - translated) == [], "run scripts/translations.sh and translate"
