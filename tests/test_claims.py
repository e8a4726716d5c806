"""The claim check (app/answering/claims.py): each answer sentence against the passage it cites.

Unit cases with hand-written passages from the test PDFs, the optional LLM judge against the
OpenAI-compatible test server, and the labelled set (tests/data/claims): the held-out figures must
stay at what was measured, less a small margin, so a regression in the checker fails the build.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from app.answering.claims import CitedPassage, ClaimChecker, Thresholds
from app.answering.claims_judge import LLMJudge, parse_verdicts
from app.answering.claims_text import split_sentences
from app.answering.service import Citation
from app.config import LLMSettings
from app.models.embeddings import EmbeddingModel
from app.models.llm import ChatModel
from app.web.ui.i18n import claim_reason
from tests.conftest import ROOT
from tests.fixtures.llm_server import FakeOpenAIServer

HISTSIZE = (
    "HISTSIZE The maximum number of commands to remember on the history list. If the value is 0, "
    "commands are not saved in the history list. Numeric values less than zero result in every command "
    "being saved on the history list (there is no limit). The shell sets the default value to 500 after "
    "reading any startup files."
)
TMOUT = (
    "TMOUT If set to a value greater than zero, TMOUT is treated as the default timeout for the read "
    "builtin. The select command terminates if input does not arrive after TMOUT seconds when input is "
    "coming from a terminal."
)
NATBIB = (
    "To make a citation in the text, use \\citep{jon90} for a parenthetical citation (Jones et al., 1990), "
    "\\citet{jon90} for a textual one, as Jones et al. (1990). Both \\citep and \\citet are defined by "
    "natbib and are thus not standard."
)
JBTX = (
    "注意:BibTEX 0.99a では古いスタイルファイルは使えない,同様に BibTEX 0.98i では新しいスタイルファイルは"
    "使えない.(しかし新しい BibTEX で古いデータベースファイルを使うことはできる.)"
)
BXJS = "基底フォントサイズの既定値は 10 pt(bxjsslide クラスのみ 36 pt)である。"


@pytest.fixture(scope="module")
def checker(local_embedder: EmbeddingModel) -> ClaimChecker:
    return ClaimChecker(embed=local_embedder.embed_documents)


def one(checker: ClaimChecker, answer: str, *passages: str) -> tuple[str, str]:
    claims = checker.check(answer, [CitedPassage(i, p) for i, p in enumerate(passages, 1)])
    assert len(claims) == 1, claims
    return claims[0].support, claims[0].reason


# ---------------------------------------------------------------- sentences


def test_sentences_keep_their_markers_and_skip_abbreviations_decimals_and_initials() -> None:
    answer = (
        "Use the square option, e.g. \\usepackage[square]{natbib} [1]. Version 8.31b is by Patrick W. Daly [2].\n"
        "- HISTSIZE defaults to 500.[3][4] It applies to every shell, i.e. login shells too.\n"
        "BibTeX を 2 回実行します[1]。次に LaTeX を実行します。[2]"
    )
    found = [(s.text, s.citations) for s in split_sentences(answer)]
    assert found == [
        ("Use the square option, e.g. \\usepackage[square]{natbib} [1].", (1,)),
        ("Version 8.31b is by Patrick W. Daly [2].", (2,)),
        ("HISTSIZE defaults to 500.[3][4]", (3, 4)),
        ("It applies to every shell, i.e. login shells too.", ()),
        ("BibTeX を 2 回実行します[1]。", (1,)),
        ("次に LaTeX を実行します。[2]", (2,)),
    ]
    start = answer.index("Version")
    version = split_sentences(answer)[1]
    assert (version.start, version.end) == (start, start + len(version.text))


def test_full_width_markers_and_ranges() -> None:
    [sentence] = split_sentences("既定値は１０ pt です［１］。")
    assert sentence.citations == (1,)
    assert split_sentences("Both options exist [1-3].")[0].citations == (1, 2, 3)
    assert split_sentences("Both options exist [1, 2].")[0].citations == (1, 2)


def test_sentences_that_state_no_fact_are_left_out(checker: ClaimChecker) -> None:
    answer = (
        "## HISTSIZE\n"
        "Sure!\n"
        "The documents do not contain this information.\n"
        "アップロードされた文書には、この質問への答えが見つかりませんでした。\n"
        "Do you mean the history file?\n"
        "The shell sets the default value to 500 [1]."
    )
    claims = checker.check(answer, [CitedPassage(1, HISTSIZE)])
    assert [c.text for c in claims] == ["The shell sets the default value to 500 [1]."]


# ---------------------------------------------------------------- verdicts


def test_a_restated_fact_is_supported_and_a_changed_number_is_not(checker: ClaimChecker) -> None:
    assert one(checker, "After the startup files, the shell sets HISTSIZE to 500 by default [1].", HISTSIZE) == (
        "supported",
        "supported by passage [1]",
    )
    support, reason = one(checker, "After the startup files, the shell sets HISTSIZE to 1000 by default [1].", HISTSIZE)
    assert support == "unsupported" and reason == "number 1000 not in passage [1]"
    # a number word counts as its number, both ways
    assert one(checker, "TMOUT must be greater than 0 to be used as the read builtin's timeout [1].", TMOUT)[0] == (
        "supported"
    )


def test_a_negation_the_passage_does_not_make_is_unsupported(checker: ClaimChecker) -> None:
    assert one(checker, "When HISTSIZE is 0, no commands are saved in the history list [1].", HISTSIZE)[0] == (
        "supported"
    )
    support, reason = one(
        checker, "When HISTSIZE is 0, the commands are still saved in the history list [1].", HISTSIZE
    )
    assert support == "unsupported" and reason.startswith("passage [1] says the opposite about")
    support, _ = one(checker, "The select command does not terminate when no input arrives within TMOUT [1].", TMOUT)
    assert support == "unsupported"


def test_citing_the_wrong_passage_is_unsupported_and_says_what_the_passage_is_about(checker: ClaimChecker) -> None:
    claims = checker.check(
        "The history list remembers at most that many commands [2].",
        [CitedPassage(1, HISTSIZE), CitedPassage(2, TMOUT)],
    )
    assert claims[0].support == "unsupported"
    assert claims[0].reason.startswith("cites [2], which is about “TMOUT If set to a value")
    assert claims[0].citations == [2]


def test_a_changed_command_or_name_is_unsupported(checker: ClaimChecker) -> None:
    assert (
        one(checker, "For a textual citation such as Jones et al. (1990), use \\citet [1].", NATBIB)[0] == "supported"
    )
    support, reason = one(checker, "For a textual citation such as Jones et al. (1990), use \\citealt [1].", NATBIB)
    assert (support, reason) == ("unsupported", "\\citealt not in passage [1]")
    support, reason = one(checker, "For a textual citation such as Smith et al. (1990), use \\citet [1].", NATBIB)
    assert (support, reason) == ("unsupported", "“Smith” not in passage [1]")


def test_japanese_inflection_and_full_width_forms(checker: ClaimChecker) -> None:
    # 使えない (passage) / 使うことはできません (answer); full-width letters, digits and brackets
    assert one(checker, "BibTeX 0.99a で古いスタイルファイルを使うことはできません[1]。", JBTX)[0] == "supported"
    assert one(checker, "ＢｉｂＴｅＸ ０．９９ａ では古いスタイルファイルは使えません［１］。", JBTX)[0] == "supported"
    assert (
        one(checker, "基底フォントサイズの既定値は１０ pt で、bxjsslide だけ３６ pt です[1]。", BXJS)[0] == "supported"
    )
    support, reason = one(checker, "基底フォントサイズの既定値は１２ pt です[1]。", BXJS)
    assert support == "unsupported" and reason == "number 12 not in passage [1]"
    support, reason = one(checker, "BibTeX 0.99a でも古いスタイルファイルを使うことができます[1]。", JBTX)
    assert support == "unsupported" and "opposite" in reason


def test_a_fact_without_a_citation_is_flagged(checker: ClaimChecker) -> None:
    passages = [CitedPassage(1, HISTSIZE)]
    [claim] = checker.check("The shell sets HISTSIZE to 500 by default after reading the startup files.", passages)
    assert (claim.support, claim.reason) == ("weak", "no citation; passage [1] supports it")
    [claim] = checker.check("Bash was first released in 1989 by Brian Fox.", passages)
    assert (claim.support, claim.reason) == ("unsupported", "no citation for a factual sentence")


def test_citing_a_passage_the_answer_does_not_have(checker: ClaimChecker) -> None:
    [claim] = checker.check("HISTSIZE defaults to 500 [4].", [CitedPassage(1, HISTSIZE)])
    assert (claim.support, claim.reason) == ("unsupported", "cites [4], which is not among the passages")


def test_the_answer_services_citations_are_accepted(checker: ClaimChecker) -> None:
    citation = Citation(
        number=1,
        doc_id="d",
        file="bashref.pdf",
        page=91,
        page_label="85",
        score=0.9,
        text=HISTSIZE[:80],
        passage=HISTSIZE,
        start=0,
        end=len(HISTSIZE),
    )
    # "Bash" is not in the passage, but it is the document's name
    [claim] = checker.check("In Bash, HISTSIZE defaults to 500 [1].", [citation])
    assert claim.support == "supported" and claim.model_dump() == {
        "text": "In Bash, HISTSIZE defaults to 500 [1].",
        "citations": [1],
        "support": "supported",
        "reason": "supported by passage [1]",
    }


def test_without_an_embedding_model_words_alone_decide() -> None:
    checker = ClaimChecker(thresholds=Thresholds())
    assert checker.check("HISTSIZE defaults to 1000 [1].", [CitedPassage(1, HISTSIZE)])[0].support == "unsupported"


# ---------------------------------------------------------------- the optional judge


def _judge(server: FakeOpenAIServer) -> LLMJudge:
    return LLMJudge(ChatModel(LLMSettings(model="judge", api_base=server.base_url, api_key="test", max_retries=0)))


def test_the_llm_judge_decides_with_the_same_shape(llm: FakeOpenAIServer, local_embedder: EmbeddingModel) -> None:
    verdicts = {
        "verdicts": [
            {"claim": 1, "support": "supported", "reason": "passage [1] states the default"},
            {"claim": 2, "support": "unsupported", "reason": "passage [2] is about TMOUT"},
        ]
    }
    llm.reply_fn = lambda messages: "Here you are:\n" + json.dumps(verdicts)
    judge = _judge(llm)
    checker = ClaimChecker(embed=local_embedder.embed_documents, judge=judge)
    answer = "HISTSIZE defaults to 500 [1]. TMOUT defaults to 500 [2]."
    claims = checker.check(answer, [CitedPassage(1, HISTSIZE), CitedPassage(2, TMOUT)])
    assert [(c.text, c.citations, c.support, c.reason) for c in claims] == [
        ("HISTSIZE defaults to 500 [1].", [1], "supported", "passage [1] states the default"),
        ("TMOUT defaults to 500 [2].", [2], "unsupported", "passage [2] is about TMOUT"),
    ]
    prompt = llm.requests[-1][1]["messages"][-1]["content"]
    assert "[1] HISTSIZE The maximum number" in prompt and "2. (cites [2]) TMOUT defaults to 500." in prompt
    assert judge.usage.total > 0


def test_an_unreadable_judge_reply_falls_back_to_the_scoring(
    llm: FakeOpenAIServer, local_embedder: EmbeddingModel
) -> None:
    llm.reply_fn = lambda messages: "All of it looks fine to me."
    checker = ClaimChecker(embed=local_embedder.embed_documents, judge=_judge(llm))
    [claim] = checker.check("HISTSIZE defaults to 1000 [1].", [CitedPassage(1, HISTSIZE)])
    assert (claim.support, claim.reason) == ("unsupported", "number 1000 not in passage [1]")
    llm.fail_next(1, 500, endpoint="chat")
    [claim] = checker.check("HISTSIZE defaults to 500 [1].", [CitedPassage(1, HISTSIZE)])
    assert claim.support == "supported"


def test_judge_replies_are_checked() -> None:
    good = '{"verdicts": [{"claim": 1, "support": "weak", "reason": "partly"}]}'
    assert parse_verdicts(good, 1) == [("weak", "partly")]
    assert parse_verdicts(good, 2) is None  # a claim left out
    assert parse_verdicts('{"verdicts": [{"claim": 1, "support": "maybe"}]}', 1) is None
    assert parse_verdicts("no json", 1) is None


# ---------------------------------------------------------------- the labelled set

sys.path.insert(0, str(ROOT / "bench"))
from claims import figures, load, predict  # noqa: E402

# bench/claims.py on the held-out split, 2026-12-06 18:05 UTC (docs/retrieval-quality.md, "Claim
# checks"): (precision, recall, share of supported sentences marked unsupported) per part of the split
# (batch 1; batches 5-7, written later to enlarge it) and language. Floors: these less MARGIN.
HELD_OUT = {
    (1,): {"en": (0.95, 0.864, 0.071), "ja": (0.933, 0.875, 0.095)},
    (5, 6, 7): {"en": (0.879, 0.725, 0.103), "ja": (0.886, 0.775, 0.1)},
}
MARGIN = 0.03


@pytest.mark.eval
@pytest.mark.slow
def test_held_out_figures_do_not_fall(checker: ClaimChecker) -> None:
    held_out = load(splits=["held_out"])
    for batches, by_lang in HELD_OUT.items():
        for lang, (precision, recall, false_flags) in by_lang.items():
            rows = [r for r in held_out if r["batch"] in batches and r["lang"] == lang]
            f = figures(rows, [predict(checker, r) for r in rows])
            assert f.precision is not None and f.precision >= precision - MARGIN, (batches, lang, f)
            assert f.recall is not None and f.recall >= recall - MARGIN, (batches, lang, f)
            assert f.false_flags is not None and f.false_flags <= false_flags + MARGIN, (batches, lang, f)


def test_the_labelled_set_is_what_its_readme_says() -> None:
    rows = load()
    assert len(rows) == 857 and sum(r["split"] == "held_out" for r in rows) == 284
    assert {r["kind"] for r in rows} == {"supported", "number", "name", "negation", "wrong"}
    for fact in {r["fact"] for r in rows}:  # a fact's sentences never straddle the split
        assert len({r["split"] for r in rows if r["fact"] == fact}) == 1
    # batches 2-4 were written to find the checker's errors: never held out; batches 5-7 are split as batch 1
    assert all(r["split"] == "tune" for r in rows if r["batch"] in (2, 3, 4))
    assert {r["batch"] for r in rows if r["split"] == "held_out"} == {1, 5, 6, 7}
    assert all(r["split"] == "tune" for r in load(splits=["tune"]))
    assert "857 answer sentences" in Path(ROOT / "tests/data/claims/README.md").read_text(encoding="utf-8")


def test_japanese_sentences_end_at_full_width_stops_too() -> None:
    """Pages keep the document's full-width ． (app/documents/text_clean.py) and answers repeat it."""
    from app.answering.claims_text import normalize, split_sentences

    sentences = split_sentences("jsarticle は和文用のクラスです[1]．本文の大きさは 10pt です[2]．")
    assert [s.citations for s in sentences] == [(1,), (2,)]
    assert normalize("最\u2ed1１４日\u46fe申請") == "最長14日の申請"


def test_japanese_negations_compare_whole_katakana_words_and_conditions_with_conditions() -> None:
    """A katakana word counts once (as pairs, ドライバ and エンジン outweighed DVI/PDF and 必須/不要 and
    set a DVI claim against the PDF clause), and a condition (…場合, …なら) is set against conditions
    only: "if amstext is not loaded" is no denial of "load amstext"."""
    from app.answering.claims_negation import conflict
    from app.answering.claims_terms import PassageText

    drivers = PassageText(
        "PDF 出力のエンジンの場合は hドライバi の指定は不要である。"
        "DVI 出力のエンジンの場合は、hドライバi の指定が必須で、dvips、dvipdfmx、xdvi が指定できる。"
    ).clauses
    assert conflict("DVI を出力するエンジンではドライバの指定が必須で、dvips を書きます[1]。", drivers) is None
    assert conflict("DVI を出力するエンジンでもドライバの指定は必須ではなく、省略できます[1]。", drivers) == "必須"
    amstext = PassageText("amstext を読み込まない場合、警告が出る。パッケージの併用が望ましい。").clauses
    assert conflict("amstext か amsmath パッケージを一緒に読み込むのが望ましいです[1]。", amstext) is None
    preset = PassageText("jafont を指定した場合は、luatexja-preset パッケージが読み込まれる。").clauses
    assert conflict("luatexja-preset は、jafont を指定しなくても読み込まれます[1]。", preset) == "指定"


def test_markers_in_quotes_and_array_indices_are_text_and_a_quoted_question_ends_nothing() -> None:
    """A bracketed number inside quotation marks or right after a code-like word (NAME[0]) is what
    the answer says, not a citation; a "?" inside parentheses ends no sentence."""
    from app.answering.claims_text import split_sentences

    [quoted] = split_sentences(r"With plain.bst, \citet prints “(author?) [21]” instead [1].")
    assert quoted.citations == (1,) and "[21]" in quoted.body
    [indexed] = split_sentences("Its output goes to NAME[0] and its input to NAME[1] [1].")
    assert indexed.citations == (1,) and "NAME[1]" in indexed.body
    assert split_sentences("It is loaded last[1][2].")[0].citations == (1, 2)


def test_spelling_small_numbers_and_conditions_are_read_as_a_paraphrase_reads_them() -> None:
    """British spellings find American ones, katakana with a long-vowel mark those without; 一度
    ("once") is no count; "not unique or not expandable" is one negation; a condition ("when …",
    "…がないと") is set against conditions only."""
    from app.answering.claims_negation import conflict
    from app.answering.claims_terms import PassageText, claim_terms

    passage = PassageText("citecolor green color of citation links")
    assert set(claim_terms("The colour of citation links is green.").words) <= passage.tokens
    assert claim_terms("一度リセットしてから設定し直します。").numbers == []
    assert set(claim_terms("strong パラメーターの既定値").words) <= PassageText("strong パラメタの既定値").tokens
    assert claim_terms("二回実行します。").numbers == [("二", "2")]
    counters = PassageText(
        r"This can fail, e.g. if \the<counter> is not unique through the document, or if it is not "
        r"expandable. In such cases \theH<counter> should be defined so that it gives a unique, expandable value."
    ).clauses
    assert conflict(r"When \the<counter> is not unique or not expandable, define \theH<counter> [1].", counters) is None
    labels = PassageText("key がないと alpha スタイルは organization フィールドから 3 文字のラベルを作る．").clauses
    assert conflict("key が無い場合、alpha スタイルは organization フィールドからラベルを作ります[1]。", labels) is None
    assert conflict("alpha スタイルは organization フィールドからラベルを作りません[1]。", labels) == "作"


def test_shell_operators_plain_english_and_a_stop_without_from_are_read_as_written(checker: ClaimChecker) -> None:
    """From batch 5: ";&" is a shell word (the space before it is no space before a full stop);
    "right after" is English, not the option value "right"; a word an English word list has
    ("wreaking") is no option name however the tokenizer cuts it; "stops the functions doing
    anything" denies as "stops them from doing" does."""
    from app.answering.claims_negation import conflict
    from app.answering.claims_terms import PassageText, claim_terms, english_words

    [case] = split_sentences("Ending a clause with ;& instead of ;; runs the next clause's commands too [1].")
    assert "with ;& instead of ;; runs" in case.body
    codes, case_passage = claim_terms(case.body).codes, PassageText("Using ‘;&’ in place of ‘;;’ continues execution")
    assert codes and all(case_passage.has_code(c) for c in codes), codes
    assert "right" not in claim_terms("It only works right after C-y or M-y.").names
    assert "blue" in claim_terms("Links are blue by default.").names
    assert "wreaking" in english_words(), "the English word list (wamerican) is missing: make system-deps"
    nohyper = (
        "\\begin{NoHyper}…\\end{NoHyper} Sometimes we just don’t want the wretched package interfering "
        "with us. Define an environment which stops the hypertext functions doing anything. This is used in the "
        "Elsevier classes, to stop hyperref playing havoc in the front matter."
    )
    rare = claim_terms("The Elsevier classes use it to keep hyperref from wreaking havoc [1].").rare
    assert [w for w, _ in rare] == ["hyperref"]  # not "wreaking"
    assert claim_terms("Load it with the sectionbib option.").rare == [("sectionbib", "sectionbib")]
    stops = PassageText(nohyper).clauses
    assert conflict("NoHyper keeps the hypertext functions from doing anything inside it [1].", stops) is None
    assert conflict("Inside NoHyper the hypertext functions do anything they like [1].", stops) is not None
    support, reason = one(
        checker,
        "The NoHyper environment stops hyperref's hypertext functions from doing anything inside it; the "
        "Elsevier classes use it to keep hyperref from wreaking havoc in the front matter [1].",
        nohyper,
    )
    assert support != "unsupported" and "opposite" not in reason and "wreaking" not in reason, reason


def test_a_name_from_the_text_around_the_passage_is_weak_and_one_from_nowhere_is_not(checker: ClaimChecker) -> None:
    """An answer may name what the cited chunk leaves to the chunk before it (the option a footnote
    is about): weak ("only in the text around it"), not a contradiction. A name found nowhere near
    is; and without the text around (an answer read back from before), the name is missing."""
    passage = (
        "※真である場合、\\texttt の出力の周囲に欧文ゴーストが挿入される。"
        "*43 japanese-otf や luatexja-preset などのパッケージが jis2004 オプションを利用する。"
    )
    before = "fix-code=⟨真偽値⟩：\\texttt の出力の周りの和欧文間空白を調整する。既定値は真。"

    def check(sentence: str, surroundings: str = before) -> tuple[str, str]:
        [claim] = checker.check(sentence, [CitedPassage(1, passage, surroundings=surroundings)])
        return claim.support, claim.reason

    footnote = "fix-code が真の場合には、\\texttt の出力の周りに欧文ゴーストが挿入されます[1]。"
    support, reason = check(footnote)
    assert support == "weak" and "fix-code" in reason and "around" in reason, reason
    assert claim_reason(reason, "ja") == "出典 [1] には 「fix-code」 がなく、その前後の文にだけあります"
    assert check(footnote, surroundings="")[0] == "unsupported"
    support, reason = check("fix-strong が真の場合には、\\texttt の出力の周りに欧文ゴーストが挿入されます[1]。")
    assert support == "unsupported" and "fix-strong" in reason, reason
    support, reason = check("japanese-otf や otf-ex などのパッケージが jis2004 オプションを利用します[1]。")
    assert support == "unsupported" and "otf-ex" in reason, reason
    # an option word in English prose (a rare word, not a name) alike
    extglob = "If set, the extended pattern matching features described above are enabled."
    option = "Turning on extglob enables the extended pattern matching features [1]."
    [claim] = checker.check(option, [CitedPassage(1, extglob, surroundings="extglob\nfailglob If set, ...")])
    assert claim.support == "weak" and "extglob" in claim.reason, claim.reason
    [claim] = checker.check(option, [CitedPassage(1, extglob)])
    assert claim.support == "unsupported" and "extglob" in claim.reason, claim.reason


def test_quoted_marks_ellipses_and_bracketed_prefixes_do_not_cut_a_clause() -> None:
    """“，” quoted as itself, "jafont=..." and "(u)pLaTeX" are inside a clause, so its denial meets
    the passage clause it denies; 使う meets 使用する."""
    from app.answering.claims_negation import conflict
    from app.answering.claims_terms import PassageText

    jafont = PassageText("既定の設定を用いる場合は jafont=... 自体を省略する。").clauses
    assert conflict("デフォルトのままでよいときでも、jafont=... の指定そのものは省略できません[1]。", jafont) == "省略"
    assert conflict("既定の設定なら jafont=... の指定は省略できます[1]。", jafont) is None
    engines = PassageText("この場合は LATEX エンジンに (u)pLATEX を使用することができる。").clauses
    assert conflict("エンジンとして (u)pLaTeX を使うことはできません[1]。", engines) == "使"
    assert conflict("エンジンとして (u)pLaTeX を使うことができます[1]。", engines) is None
    names = PassageText("複数の氏名を並べる時には全角の句点 “，” あるいは “、” で区切ることができる。").clauses
    assert conflict("複数の氏名は全角の “，” や “、” で区切ることはできません[1]。", names) == "区切"


def test_placeholders_british_spellings_and_paraphrased_denials() -> None:
    """From batch 6: a placeholder in angle brackets (dvi=<ドライバ名>) is no term to find (TeX fonts
    print its brackets as letters); "capitalise" is English as "capitalize" is; "removes" agrees with
    "stripped", "without checking" denies as "no check" does, and "non-empty" is "not empty"."""
    from app.answering.claims_negation import conflict
    from app.answering.claims_terms import PassageText, claim_terms

    assert "<ドライバ名>" not in " ".join(claim_terms("dvi=<ドライバ名> は DVI 出力のときだけ使います。").codes)
    assert claim_terms("To capitalise the first letter, use \\Citet.").rare == []
    heredoc = PassageText("If the redirection operator is '<<-', then all leading tab characters are stripped.").clauses
    assert conflict("With <<-, Bash removes all leading tabs from the input lines [1].", heredoc) is None
    overflow = PassageText("Evaluation is done in fixed-width integers with no check for overflow.").clauses
    assert conflict("Bash evaluates fixed-width integers without checking for overflow [1].", overflow) is None
    assert conflict("Bash evaluates fixed-width integers and checks for overflow [1].", overflow) is not None
    history = PassageText("Only non-empty lines are saved on the history list.").clauses
    assert conflict("Only lines that are not empty are saved on the history list [1].", history) is None
    assert conflict("Only empty lines are saved on the history list [1].", history) is not None


def test_a_case_is_no_denial_of_the_other_case_and_neither_nor_denies_once() -> None:
    """From batch 7: "if no increment is given, the step is 1" names a case, and the passage's "when
    the increment is given, it is used" another, not a contradiction; a concessive condition ("even
    if", …ても) still is one. "neither trapped nor reset" is one denial, as "cannot be trapped or
    reset" is; "without hyperlinked citations" denies as "not hyperlinked" does."""
    from app.answering.claims_negation import conflict
    from app.answering.claims_terms import PassageText

    steps = PassageText(
        "When the increment is supplied, it is used as the difference between each term. "
        "The default increment is 1 or -1 as appropriate."
    ).clauses
    assert conflict("If no increment is supplied, the step is 1 or -1 as appropriate [1].", steps) is None
    assert conflict("Even if the increment is not supplied, it is used as the difference [1].", steps) == "suppli"
    ignored = PassageText("Signals ignored upon entry to the shell cannot be trapped or reset.").clauses
    assert conflict("Signals ignored when the shell starts can be neither trapped nor reset [1].", ignored) is None
    assert conflict("Signals ignored when the shell starts can be trapped and reset [1].", ignored) is not None
    cite = PassageText("The citations work, but they will not be hyperlinked citations.").clauses
    assert conflict("The citations work, just without hyperlinked citations [1].", cite) is None


def test_every_reason_the_check_gives_reads_in_japanese() -> None:
    """The chat's tooltip shows a claim's reason in the reader's language: each form `verdict` and
    `_decide` write has its Japanese."""
    reasons = [
        "number 1000 not in passage [1]",
        "“blue” not in passages [1], [2]",
        "\\citealt not in passage [2]",
        "passage [1] says the opposite about “load”",
        "cites [2], which is about “The square option says that references are…”",
        "cites [4], which is not among the passages",
        "only partly supported by passage [1]: “two” not found",
        "only partly supported by passage [1]: “fix-code”, “pLaTeX” not found (only in the text around it)",
        "only partly supported by passage [3]",
        "no citation; passage [2] supports it",
        "no citation for a factual sentence",
        "supported by passages [1], [3]",
    ]
    for reason in reasons:
        ja = claim_reason(reason, "ja")
        assert ja != reason and not re.search(r"\b(?:passages?|not|found|around|supported|cites)\b", ja), (reason, ja)
