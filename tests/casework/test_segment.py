"""casework.search.segment gives jieba's words (issue 18: the web's workers segment with
jieba-rs, not jieba's 70 MiB Python dictionary, and must find what an index built with jieba
holds). Compared with jieba itself on the texts the platform's tests and generator use and on
random mixes of Chinese, letters, digits, punctuation and rarer characters."""
from __future__ import annotations

import random

import pytest

from bench import generate
from casework.search import segment
from casework.search.text import analyzer

jieba = pytest.importorskip("jieba")
jieba.setLogLevel(60)

PIECES_EXTRA = list("abcXYZ0123456789.-_%#&+ ，。！？、“”（）:/\\\n\t") + [
    "2.5%", "v1.2", "C++", "A股", "ＡＢＣ", "１２３", "😀", "𠀀", "㐀", "3.14", "e-mail", "x_y", "..", "--", "100%",
    "iPhone15", "5G", "2.jpg", "123-456", "association_id", "\r\n", "强制入会", "收取会费", "中国复合材料工业协会"]


def _corpus(n: int = 6000) -> list[str]:
    texts = [t for titles in generate.TITLES.values() for t in titles]
    words = [w for t in texts for w in jieba.cut(t)] + PIECES_EXTRA
    r = random.Random(18)
    texts += ["".join(r.choice(words) for _ in range(r.randint(1, 25))) for _ in range(n)]
    han = [chr(c) for c in range(0x4E00, 0x9FA5)]
    texts += ["".join(r.choice(han) for _ in range(r.randint(2, 40))) for _ in range(n // 6)]
    return texts


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


def test_default_mode_is_jiebas(corpus):
    differ = [t for t in corpus if list(segment.tokenize(t)) != list(jieba.tokenize(t))]
    assert differ == []


def test_search_mode_is_jiebas(corpus):
    differ = [t for t in corpus if list(segment.tokenize_search(t)) != list(jieba.tokenize(t, mode="search"))]
    assert differ == []


def test_the_analyzer_gives_the_index_jiebas_terms(corpus):
    from jieba.analyse import ChineseAnalyzer

    theirs = ChineseAnalyzer()
    ours = analyzer()

    def terms(a, text):
        return [(t.text, t.pos, t.startchar, t.endchar) for t in a(text, positions=True, chars=True)]

    differ = [t for t in corpus[:3000] if terms(ours, t) != terms(theirs, t)]
    assert differ == []
    assert [t.text for t in ours("强制入会的会费")] == ["强制", "入会", "会费"]  # 的: a stop word


def test_keywords_are_jiebas_tf_idf(corpus):
    import jieba.analyse

    texts = [" ".join(corpus[i:i + 6]) for i in range(0, 1800, 6)]
    differ = [t for t in texts if segment.extract_tags(t, top_k=8) != jieba.analyse.extract_tags(t, topK=8)]
    assert differ == []
    assert segment.extract_tags("") == []


def test_the_web_does_not_load_jieba(tmp_path):
    """The web's request path segments without importing jieba (its dictionary would cost every
    worker ~70 MiB) or pypinyin (~55 MiB)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from casework.search.text import lexemes\n"
        "from casework.search.segment import extract_tags\n"
        "import web.app, casework.registry.lookup\n"
        "assert lexemes('强制入会') == ['强制', '入会'], lexemes('强制入会')\n"
        "assert extract_tags('协会强制入会收取会费，强制入会违法', 2)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jieba', 'pypinyin')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "TMPDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
