# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Regenerate tests/data/claims/claims.jsonl: the labelled claim-check set (see README.md here).

Usage: .venv/bin/python tests/data/claims/build_claims.py [OUTPUT] [--rebuild-all]
(default: claims.jsonl next to this file; the rows of batches 1-3 are copied from it, see FROZEN_BATCHES,
unless --rebuild-all cuts their passages again with today's reader)

Every fact below names a page of one of the test PDFs and an anchor, a piece of that page's text; the
passage is the first chunk of the page (read with the app's reader, cut by the app's chunker with the
settings of config.yaml) that contains the anchor, so it is exactly what retrieval would cite. For each
fact the annotator wrote:

* one supported sentence: the passage's fact in other words, citing [1];
* one or two unsupported variants, each a small edit of that sentence: a changed number (`number`), a
  changed name or key term (`name`; `inside=True` when the new name occurs elsewhere in the passage,
  a swap), a negation added or removed (`negation`), or the supported sentence citing another passage
  of the same document (`wrong`, given the phrases that state the fact: the wrong passage is the chunk
  of another page that shares most terms with the sentence among those containing none of them).

The script refuses to write the file when an anchor is missing, when a changed number or name is in
the passage after all, or when a wrong passage contains a key phrase.

The split is fixed by the fact id alone (sha256, about 40 % held out), so a supported sentence and
its variants always fall on the same side, and it was fixed before the checker existed.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
sys.path.insert(0, str(ROOT))

N, H, B, J, X = "natbib.pdf", "hyperref-doc.pdf", "bashref.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


@dataclass
class Fact:
    id: str
    doc: str
    page: int
    anchor: str
    sentence: str
    number: tuple[str, str] | None = None  # (sentence, the new number)
    name: tuple[str, str] | tuple[str, str, bool] | None = None  # (sentence, the new name[, inside])
    negation: str | None = None
    wrong: tuple[str, ...] = ()  # phrases that state the fact: a wrong passage has none of them
    batch: int = 1  # 2, 3: written after held-out measurements, supported only; 4: with variants; always in tune; 5-7: split by hash


FACTS: list[Fact] = []


def fact(id: str, doc: str, page: int, anchor: str, sentence: str, **kwargs: object) -> None:
    FACTS.append(Fact(id, doc, page, anchor, sentence, **kwargs))  # type: ignore[arg-type]


# fmt: off
# ---------------------------------------------------------------- natbib (English)
fact("en-natbib-01", N, 4, "The square option says that references are to be",
     "Loading natbib with the square option makes references appear in square brackets instead of round parentheses [1].",
     name=("Loading natbib with the curly option makes references appear in square brackets instead of round parentheses [1].", "curly"),
     wrong=("square",))
fact("en-natbib-02", N, 4, r"\citep{jon90} for a parenthetical citation",
     r"In natbib, \citep produces a parenthetical citation such as (Jones et al., 1990), while \citet produces a textual one [1].",
     name=(r"In natbib, \citealp produces a parenthetical citation such as (Jones et al., 1990), while \citet produces a textual one [1].", r"\citealp"),
     number=(r"In natbib, \citep produces a parenthetical citation such as (Jones et al., 1993), while \citet produces a textual one [1].", "1993"))
fact("en-natbib-03", N, 4, r"The standard LATEX command \cite should be avoided",
     r"The manual advises against the standard \cite command, since it acts like \citet for author–year citations but like \citep for numerical ones [1].",
     negation=r"The standard \cite command does not need to be avoided, since it behaves like \citet for author–year citations and like \citep for numerical ones [1].")
fact("en-natbib-04", N, 5, "I provide three new .bst files to replace",
     "natbib ships three replacement .bst files, plainnat.bst, abbrvnat.bst and unsrtnat.bst, which work in both numerical and author–year mode [1].",
     number=("natbib ships four replacement .bst files, plainnat.bst, abbrvnat.bst and unsrtnat.bst, which work in both numerical and author–year mode [1].", "four"),
     name=("natbib ships three replacement .bst files, plainnat.bst, abbrvnat.bst and alphanat.bst, which work in both numerical and author–year mode [1].", "alphanat"))
fact("en-natbib-05", N, 6, "Round parentheses must always be used",
     r"In a \bibitem label the year must always be put in round parentheses, even when square brackets are wanted for the citations [1].",
     negation=r"In a \bibitem label the year does not have to be put in round parentheses when square brackets are wanted for the citations [1].",
     wrong=("must always be used", "Round parentheses"))
fact("en-natbib-06", N, 6, "it switches stubbornly to numerical mode",
     r"If even one \bibitem entry does not follow a syntax natbib understands, natbib falls back to numerical mode [1].",
     negation=r"If even one \bibitem entry does not follow a syntax natbib understands, natbib does not switch to numerical mode [1].",
     wrong=("stubbornly", "switch to numerical mode", "switches to numerical"))
fact("en-natbib-07", N, 6, r"starred versions \citet* and \citep* that print the full author",
     r"The starred forms \citet* and \citep* print the complete list of authors rather than the abbreviated one [1].",
     name=(r"The starred forms \citeauthor* and \citep* print the complete list of authors rather than the abbreviated one [1].", r"\citeauthor"))
fact("en-natbib-08", N, 8, r"This means that \cite (without notes) is the same as \citet in author",
     r"Without notes, \cite behaves like \citet in author–year mode and like \citep in numerical mode [1].",
     name=(r"Without notes, \cite behaves like \citealt in author–year mode and like \citep in numerical mode [1].", r"\citealt"),
     wrong=("same as \\citet", "behaves like \\citet", "like \\citet for", "is the same as \\citep"))
fact("en-natbib-09", N, 8, "Include the option longnamesfirst",
     "For publishers that want the full author list on the first citation and the short list afterwards, natbib offers the longnamesfirst option [1].",
     name=("For publishers that want the full author list on the first citation and the short list afterwards, natbib offers the sectionbib option [1].", "sectionbib"))
fact("en-natbib-10", N, 8, r"\citealt is the same as \citet but",
     r"\citealt works like \citet but leaves out the parentheses, and \citealp is likewise \citep without parentheses [1].",
     name=(r"\citealt works like \citep but leaves out the parentheses, and \citealp is likewise \citet without parentheses [1].", r"\citep", True))
fact("en-natbib-11", N, 8, r"\citenum{jon90} ⇒ 11",
     r"In the manual's example, \citenum{jon90} prints just the number 11 [1].",
     number=(r"In the manual's example, \citenum{jon90} prints just the number 21 [1].", "21"))
fact("en-natbib-12", N, 12, "(This command is new to version 8.)",
     r"The \setcitestyle command, introduced in version 8, takes a comma-separated list of keywords to change the citation style or mode [1].",
     number=(r"The \setcitestyle command, introduced in version 7, takes a comma-separated list of keywords to change the citation style or mode [1].", "7"),
     wrong=("new to version 8", "comma-separated list of keywords"))
fact("en-natbib-13", N, 14, "agu (American Geophysical Union): square, author–year, semi-colon",
     "natbib's predefined agu style uses square brackets, author–year citations and semicolons between citations [1].",
     name=("natbib's predefined egu style uses square brackets, author–year citations and semicolons between citations [1].", "egu", True))
fact("en-natbib-14", N, 15, "This indentation is 1 em by",
     r"The hanging indentation is 1 em by default and can be changed by redefining the length \bibhang with \setlength [1].",
     number=(r"The hanging indentation is 2 em by default and can be changed by redefining the length \bibhang with \setlength [1].", "2"))
fact("en-natbib-15", N, 16, "If this is set to 0 pt, there",
     r"Setting the length \bibsep to 0 pt removes the extra spacing between the references in the list [1].",
     number=(r"Setting the length \bibsep to 5 pt removes the extra spacing between the references in the list [1].", "5"),
     negation=r"Setting the length \bibsep to 0 pt does not remove the extra spacing between the references in the list [1].")
fact("en-natbib-16", N, 16, r"Of course, \makeindex must also be issued in the preamble",
     r"Citation indexing only works if \makeindex is also given in the preamble; without it nothing is indexed [1].",
     negation=r"Citation indexing works even if \makeindex is not given in the preamble [1].",
     wrong=("\\makeindex",))
fact("en-natbib-17", N, 20, r"\shortcites Some references have so many authors",
     r"For references with very many authors, issuing \shortcites{key-list} before the first citations suppresses the automatic long author list for those keys [1].",
     name=(r"For references with very many authors, issuing \citefullauthor{key-list} before the first citations suppresses the automatic long author list for those keys [1].", r"\citefullauthor"))
fact("en-natbib-18", N, 23, "Before natbib was published in 1993",
     "natbib was first published in 1993, and several earlier attempts at author–year citations inspired it [1].",
     number=("natbib was first published in 1995, and several earlier attempts at author–year citations inspired it [1].", "1995"),
     wrong=("1993",))
fact("en-natbib-19", N, 24, "The name natsci stands for natural sciences",
     "The name natbib comes from Stephen Gildea's natsci, which stands for natural sciences [1].",
     name=("The name natbib comes from Donald Arseneau's natsci, which stands for natural sciences [1].", "Arseneau"))
fact("en-natbib-20", N, 1, "Note that the citeref package (for adding citation page numbers",
     "If you use the citeref package, which adds citation page numbers to the bibliography, it must be loaded after natbib [1].",
     negation="If you use the citeref package, which adds citation page numbers to the bibliography, it does not need to be loaded after natbib [1].",
     wrong=("citeref",))

# ---------------------------------------------------------------- hyperref (English)
fact("en-hyperref-01", H, 6, "Make sure it comes last of your loaded packages",
     "hyperref should be loaded after all your other packages, because its job is to redefine many LaTeX commands [1].",
     negation="hyperref does not need to be loaded after your other packages, even though its job is to redefine many LaTeX commands [1].",
     wrong=("comes last", "loaded last"))
fact("en-hyperref-02", H, 6, r"Do not load it in \AtBeginDocument",
     r"Loading hyperref inside \AtBeginDocument is not officially supported; to delay loading, use the begindocument/before hook [1].",
     negation=r"Loading hyperref inside \AtBeginDocument is officially supported; to delay loading, use the begindocument/before hook [1].")
fact("en-hyperref-03", H, 9, "hyperref.cfg is read if it can be found",
     "When hyperref is loaded it reads hyperref.cfg if one exists, which makes that file a convenient place for site-wide options [1].",
     name=("When hyperref is loaded it reads hyperref.ini if one exists, which makes that file a convenient place for site-wide options [1].", "hyperref.ini"),
     wrong=("hyperref.cfg",))
fact("en-hyperref-04", H, 9, "some options (for example unicode) can only be used as package options",
     r"Some options, unicode for example, can only be given as package options and not through \hypersetup [1].",
     negation=r"Some options, unicode for example, cannot be given as package options, only through \hypersetup [1].")
fact("en-hyperref-05", H, 11, "draft boolean false all hypertext options are turned off",
     "The draft option, false by default, switches off all hypertext features [1].",
     negation="The draft option, false by default, does not switch off the hypertext features [1].",
     wrong=("draft",))
fact("en-hyperref-06", H, 15, "linkcolor color red Color for normal internal links",
     "By default, normal internal links are colored red (linkcolor) and citations green (citecolor) [1].",
     name=("By default, normal internal links are colored blue (linkcolor) and citations green (citecolor) [1].", "blue"),
     wrong=("linkcolor", "citecolor"))
fact("en-hyperref-07", H, 15, "urlcolor color magenta Color for linked URLs",
     "Linked URLs are shown in magenta by default, which is set with the urlcolor option [1].",
     name=("Linked URLs are shown in cyan by default, which is set with the urlcolor option [1].", "cyan", True))
fact("en-hyperref-08", H, 15, "hidelinks Hide links (removing color and border)",
     "The hidelinks option hides links by removing both their color and their border [1].",
     name=("The nolinks option hides links by removing both their color and their border [1].", "nolinks"),
     wrong=("hidelinks",))
fact("en-hyperref-09", H, 15, "bookmarks boolean true A set of Acrobat bookmarks are written",
     "The bookmarks option is true by default and writes Acrobat bookmarks like a table of contents, which takes two LaTeX runs [1].",
     number=("The bookmarks option is true by default and writes Acrobat bookmarks like a table of contents, which takes three LaTeX runs [1].", "three"))
fact("en-hyperref-10", H, 16, "pdfborder 0 0 1 The style of box around links",
     "By default pdfborder draws a box with 1pt lines around links, but the colorlinks option resets it so that no border is drawn [1].",
     number=("By default pdfborder draws a box with 2pt lines around links, but the colorlinks option resets it so that no border is drawn [1].", "2"),
     wrong=("pdfborder",))
fact("en-hyperref-11", H, 17, "pdfstartpage integer 1 Determines on which page the PDF file is",
     "pdfstartpage sets the page on which the PDF file opens, and it defaults to 1 [1].",
     number=("pdfstartpage sets the page on which the PDF file opens, and it defaults to 0 [1].", "0"))
fact("en-hyperref-12", H, 18, "The unit is bp and the origin is in the lower left corner",
     "The magnification of each link is given in PDF coordinates, measured in bp with the origin at the lower left corner [1].",
     name=("The magnification of each link is given in PDF coordinates, measured in pt with the origin at the lower left corner [1].", "pt"))
fact("en-hyperref-13", H, 18, "hyperref passes in a value of -32768",
     "Drivers that use pdfmark supply no defaults, so hyperref passes the value -32768, which makes Acrobat choose sensible defaults [1].",
     number=("Drivers that use pdfmark supply no defaults, so hyperref passes the value -16384, which makes Acrobat choose sensible defaults [1].", "16384"),
     wrong=("32768",))
fact("en-hyperref-14", H, 29, "Default is 1 pt for supporting drivers",
     "pdflinkmargin is an experimental option that sets a link margin; with drivers that support it the default is 1 pt [1].",
     number=("pdflinkmargin is an experimental option that sets a link margin; with drivers that support it the default is 3 pt [1].", "3"),
     wrong=("pdflinkmargin",))
fact("en-hyperref-15", H, 30, "The option is deprecated: it makes it difficult for package authors",
     r"The localanchorname option is deprecated because it makes it hard for package authors to know whether \@currentHref is set locally or globally [1].",
     negation=r"The localanchorname option is not deprecated, although it makes it hard for package authors to know whether \@currentHref is set locally or globally [1].")
fact("en-hyperref-16", H, 30, "On default the option is turned off (set to ‘false’)",
     r"The psdextra option, which maps math command names such as \geq to their text versions in PDF strings, is off by default [1].",
     name=(r"The psdextra option, which maps math command names such as \leq to their text versions in PDF strings, is off by default [1].", r"\leq"),
     wrong=("psdextra",))
fact("en-hyperref-17", H, 30, "The default is 2pt.",
     r"\XeTeXLinkBox adds space around its argument, and an extra margin can be set with \XeTeXLinkMargin, which defaults to 2pt [1].",
     number=(r"\XeTeXLinkBox adds space around its argument, and an extra margin can be set with \XeTeXLinkMargin, which defaults to 4pt [1].", "4"),
     wrong=("XeTeXLinkMargin", "XeTeXLinkBox"))
fact("en-hyperref-18", H, 33, "The PDF version should be at least 1.5",
     "With ocgcolorlinks the PDF version has to be 1.5 or higher, which is set automatically for pdfTeX, LuaTeX and dvipdfmx [1].",
     number=("With ocgcolorlinks the PDF version has to be 1.4 or higher, which is set automatically for pdfTeX, LuaTeX and dvipdfmx [1].", "1.4"))
fact("en-hyperref-19", H, 36, "All drivers use unicode by default now",
     r"All drivers now use Unicode by default, and another encoding should be forced with \hypersetup [1].",
     negation=r"Not all drivers use Unicode by default yet, and another encoding should be forced with \hypersetup [1].",
     wrong=("use unicode by default", "unicode by default", "pdfencoding=unicode", "unicode boolean true", "unicode true"))
fact("en-hyperref-20", H, 37, "If option pdfusetitle is set then hyperref tries to derive",
     r"With pdfusetitle, hyperref tries to fill in pdftitle and pdfauthor from \title and \author [1].",
     name=(r"With pdfusetitle, hyperref tries to fill in pdftitle and pdfauthor from \title and \date [1].", r"\date"),
     wrong=("pdfusetitle",))

# ---------------------------------------------------------------- bash (English)
fact("en-bash-01", B, 1, "Chet Ramey, Case Western Reserve University",
     "The Bash Reference Manual was written by Chet Ramey of Case Western Reserve University and Brian Fox of the Free Software Foundation [1].",
     name=("The Bash Reference Manual was written by Chet Ramey of Case Western Reserve University and Stephen Bourne of the Free Software Foundation [1].", "Bourne"))
fact("en-bash-02", B, 7, "a pun on Stephen Bourne",
     "The name Bash is an acronym for 'Bourne-Again SHell', a pun on Stephen Bourne, who wrote the direct ancestor of the Unix sh [1].",
     name=("The name Bash is an acronym for 'Bourne-Again SHell', a pun on Brian Fox, who wrote the direct ancestor of the Unix sh [1].", "Brian Fox"),
     wrong=("Bourne-Again", "Stephen Bourne"))
fact("en-bash-03", B, 7, "ieee Standard 1003.1",
     "Bash is meant to conform to the Shell and Tools part of the IEEE POSIX specification, IEEE Standard 1003.1 [1].",
     number=("Bash is meant to conform to the Shell and Tools part of the IEEE POSIX specification, IEEE Standard 1003.2 [1].", "1003.2"))
fact("en-bash-04", B, 7, "cd, break, continue, and exec cannot be implemented outside",
     "Builtins such as cd, break, continue and exec have to be built into the shell, because they manipulate the shell directly [1].",
     negation="Builtins such as cd, break, continue and exec do not have to be built into the shell, even though they manipulate the shell directly [1].")
fact("en-bash-05", B, 9, "The value is restricted to eight bits, so the maximum value is 255",
     "An exit status is limited to eight bits, so it can be at most 255 [1].",
     number=("An exit status is limited to eight bits, so it can be at most 511 [1].", "511"),
     wrong=("255", "eight bits", "8 bits"))
fact("en-bash-06", B, 15, "or 128+n if the command was terminated by signal n",
     "The return status of a simple command is the exit status reported by waitpid, or 128+n when signal n terminated it [1].",
     number=("The return status of a simple command is the exit status reported by waitpid, or 256+n when signal n terminated it [1].", "256"))
fact("en-bash-07", B, 51, "If a command is not found, the child process created to execute it returns a status of",
     "When a command cannot be found, the child process returns status 127, and a command that exists but is not executable returns 126 [1].",
     number=("When a command cannot be found, the child process returns status 129, and a command that exists but is not executable returns 126 [1].", "129"),
     wrong=("127",))
fact("en-bash-08", B, 45, "the redirection will fail if the file whose name results",
     "With the noclobber option enabled, redirecting output with '>' fails if the target file already exists and is a regular file [1].",
     negation="With the noclobber option enabled, redirecting output with '>' does not fail even if the target file already exists and is a regular file [1].",
     wrong=("noclobber", "-C Prevent output redirection"))
fact("en-bash-09", B, 45, "If the redirection operator is ‘>|’",
     "The '>|' operator attempts the redirection even when the named file already exists [1].",
     name=("The '>>' operator attempts the redirection even when the named file already exists [1].", ">>"))
fact("en-bash-10", B, 91, "The shell sets the default value to 500 after reading any startup files",
     "HISTSIZE is the maximum number of commands kept in the history list, and the shell sets it to 500 by default after reading the startup files [1].",
     number=("HISTSIZE is the maximum number of commands kept in the history list, and the shell sets it to 1000 by default after reading the startup files [1].", "1000"),
     wrong=("HISTSIZE",))
fact("en-bash-11", B, 91, "value is 0, commands are not saved in the history list",
     "Setting HISTSIZE to 0 means no commands are saved in the history list, while a negative value saves every command [1].",
     negation="Setting HISTSIZE to 0 does not stop commands from being saved in the history list, while a negative value saves every command [1].")
fact("en-bash-12", B, 95, "TMOUT If set to a value greater than zero, TMOUT is treated",
     "A TMOUT value greater than zero serves as the default timeout of the read builtin [1].",
     number=("A TMOUT value greater than 10 serves as the default timeout of the read builtin [1].", "10"))
fact("en-bash-13", B, 158, "history is initialized from the file named by the HISTFILE",
     "At startup the history list is loaded from the file named by HISTFILE, which defaults to ~/.bash_history [1].",
     name=("At startup the history list is loaded from the file named by HISTFILE, which defaults to ~/.bashrc [1].", "bashrc"))
fact("en-bash-14", B, 158, "If the histappend shell option is set",
     "If the histappend option is set, the history lines are appended to the history file instead of overwriting it [1].",
     negation="If the histappend option is set, the history lines are not appended to the history file, which is overwritten instead [1].",
     wrong=("histappend",))
fact("en-bash-15", B, 80, "globstar If set, the pattern ‘**’",
     "With globstar set, the pattern '**' in filename expansion matches all files and zero or more directories and subdirectories [1].",
     name=("With extglob set, the pattern '**' in filename expansion matches all files and zero or more directories and subdirectories [1].", "extglob"),
     wrong=("globstar",))
fact("en-bash-16", B, 80, "If set, filename expansion will never match the filenames",
     "The globskipdots option, which is on by default, keeps filename expansion from ever matching '.' and '..' [1].",
     negation="The globskipdots option, which is not enabled by default, keeps filename expansion from ever matching '.' and '..' [1].")
fact("en-bash-17", B, 174, "The Bash ‘-o pipefail’ option to set will cause a pipeline",
     "With set -o pipefail, a pipeline returns a failure status if any of its commands fails [1].",
     negation="With set -o pipefail, a pipeline does not return a failure status when one of its commands fails [1].",
     wrong=("pipefail",))
fact("en-bash-18", B, 16, "it is shorthand for 2>&1 |",
     "Using '|&' connects the first command's standard error as well as its standard output to the next command; it is shorthand for 2>&1 | [1].",
     name=("Using '||' connects the first command's standard error as well as its standard output to the next command; it is shorthand for 2>&1 | [1].", "||"))
fact("en-bash-19", B, 9, "A character that, when unquoted, separates words",
     "A metacharacter is an unquoted character that separates words, for example a space, a tab, a newline, '|', '&' or ';' [1].",
     name=("A metacharacter is an unquoted character that separates words, for example a space, a tab, a newline, '|', '&' or '#' [1].", "#"),
     wrong=("metacharacter",))
fact("en-bash-20", B, 9, "name A word consisting solely of letters, numbers, and underscores",
     "In Bash, a name is a word made only of letters, numbers and underscores that begins with a letter or an underscore, and names are used for variables and functions [1].",
     name=("In Bash, a name is a word made only of letters, numbers and underscores that begins with a digit or an underscore, and names are used for variables and functions [1].", "digit"))

# ---------------------------------------------------------------- jbtxdoc (Japanese)
fact("ja-jbtx-01", J, 1, "最後に LATEX をもう 2 回実行する",
     "この文書を処理するには、LaTeX、BibTeX の順に実行し、その後 LaTeX をさらに 2 回実行します[1]。",
     number=("この文書を処理するには、LaTeX、BibTeX の順に実行し、その後 LaTeX をさらに 3 回実行します[1]。", "3"))
fact("ja-jbtx-02", J, 1, "closed 参考文献書式を標準としている",
     "BibTeX 0.99a では closed 形式の参考文献書式が標準で、open 形式にするには openbib オプションを使います[1]。",
     name=("BibTeX 0.99a では closed 形式の参考文献書式が標準で、open 形式にするには openref オプションを使います[1]。", "openref"),
     wrong=("openbib", "closed"))
fact("ja-jbtx-03", J, 1, "BibTEX 0.99a では古いスタイルファイルは使えない",
     "BibTeX 0.99a で古いスタイルファイルを使うことはできませんが、古いデータベースファイルは新しい BibTeX でも使えます[1]。",
     negation="BibTeX 0.99a でも古いスタイルファイルをそのまま使うことができ、古いデータベースファイルも新しい BibTeX で使えます[1]。")
fact("ja-jbtx-04", J, 1, "MS-DOS 版では SJIS が標準である",
     "JBibTeX の漢字コードは環境変数 BIBTERMCODE と BIBFILECODE で切り替えられ、MS-DOS 版の標準は SJIS です[1]。",
     name=("JBibTeX の漢字コードは環境変数 BIBTERMCODE と BIBFILECODE で切り替えられ、MS-DOS 版の標準は EUC です[1]。", "EUC"),
     wrong=("BIBTERMCODE", "SJIS"))
fact("ja-jbtx-05", J, 2, "コマンドひとつで,データベース中のすべての文献を並べたリストを作ることができる",
     r"\nocite{*} を一つ書くだけで、データベースにあるすべての文献を参考文献リストに並べられます[1]。",
     name=(r"\bibliography{*} を一つ書くだけで、データベースにあるすべての文献を参考文献リストに並べられます[1]。", r"\bibliography"),
     wrong=("nocite{*}",))
fact("ja-jbtx-06", J, 2, "‘#’ によって任意の数の文字列を連結できる",
     "‘#’ を使えばいくつでも文字列をつなげられますが、‘#’ の前後にはスペースか改行が必要です[1]。",
     negation="‘#’ を使えばいくつでも文字列をつなげられ、‘#’ の前後にスペースや改行を置く必要はありません[1]。")
fact("ja-jbtx-07", J, 3, "この booktitle フィールドは 1 回だけ書けばよい",
     "会議の論文がデータベースにいくつあっても、booktitle フィールドは相互参照先に 1 回書くだけで済みます[1]。",
     wrong=("1 回だけ書けばよい", "booktitle"))
fact("ja-jbtx-08", J, 3, "2 つ以上の論文が参照していると",
     "gg-proceedings のような相互参照先は、2 つ以上の論文から参照されていれば、それ自体が引用されていなくても自動的に参考文献リストに加えられます[1]。",
     number=("gg-proceedings のような相互参照先は、3 つ以上の論文から参照されていれば、それ自体が引用されていなくても自動的に参考文献リストに加えられます[1]。", "3"),
     negation="gg-proceedings のような相互参照先は、2 つ以上の論文から参照されていても、それ自体が引用されていなければ参考文献リストに加えられません[1]。")
fact("ja-jbtx-09", J, 3, "それを引用しているすべてのエントリよりデータベースファイル中で後ろになければならない",
     "相互参照される側のエントリは、データベースファイルの中でそれを参照するすべてのエントリより後に置く必要があります[1]。",
     name=("相互参照される側のエントリは、データベースファイルの中でそれを参照するすべてのエントリより前に置く必要があります[1]。", "前"),
     wrong=("後ろになければならない", "最後に置く"))
fact("ja-jbtx-10", J, 3, "アクセント付き文字列を中括弧 (ブレース; {}) で囲んでやる必要がある",
     r"BibTeX にアクセント付き文字を正しく扱わせるには、{\"o} のように中括弧で囲む必要があります[1]。",
     negation=r"BibTeX はアクセント付き文字を正しく扱えるので、{\"o} のように中括弧で囲む必要はありません[1]。")
fact("ja-jbtx-11", J, 3, "BibTEX は中括弧の中の文字列をまとめて 1 文字と数える",
     "ラベルの文字数を数えるとき、BibTeX は中括弧で囲まれた部分を１文字として扱います[1]。",
     number=("ラベルの文字数を数えるとき、BibTeX は中括弧で囲まれた部分を２文字として扱います[1]。", "2"),
     wrong=("1 文字と数える", "まとめて 1 文字"))
fact("ja-jbtx-12", J, 3, "で abbrv スタイルを使うと,結果は ‘J.-P. Sartre’ となる",
     "author が \"Jean-Paul Sartre\" のエントリに abbrv スタイルを使うと、‘J.-P. Sartre’ と出力されます[1]。",
     name=("author が \"Jean-Paul Sartre\" のエントリに alpha スタイルを使うと、‘J.-P. Sartre’ と出力されます[1]。", "alpha"))
fact("ja-jbtx-13", J, 4, "BibTEX のソーティング算法は安定 (stable) なものとなった",
     "BibTeX のソートは安定になり、ソートキーが同じエントリは引用された順に並びます[1]。",
     negation="BibTeX のソートは安定ではなく、ソートキーが同じエントリがどの順に並ぶかは決まっていません[1]。",
     wrong=("安定", "stable"))
fact("ja-jbtx-14", J, 4, "BibTEX はファイル名の小文字/大文字変換を行わないようになった",
     "BibTeX はファイル名の大文字と小文字を変換しなくなったので、UNIX へのインストールが簡単になりました[1]。",
     negation="BibTeX はファイル名の大文字と小文字を変換するようになったので、UNIX へのインストールが簡単になりました[1]。")
fact("ja-jbtx-15", J, 5, "‘March’ と ‘Sep.’ の替わりに ‘Mar.’ と ‘Sept.’",
     "abbrv スタイルでは、月名が ‘March’ や ‘Sep.’ ではなく ‘Mar.’ や ‘Sept.’ と書かれるようになりました[1]。",
     name=("unsrt スタイルでは、月名が ‘March’ や ‘Sep.’ ではなく ‘Mar.’ や ‘Sept.’ と書かれるようになりました[1]。", "unsrt"),
     wrong=("Sept.",))
fact("ja-jbtx-16", J, 5, "このような状況としては以下の 5 つが考えられる",
     "参照元が大きな著作の一部分である状況として、5 つの場合が挙げられています[1]。",
     number=("参照元が大きな著作の一部分である状況として、6 つの場合が挙げられています[1]。", "6"))
fact("ja-jbtx-17", J, 5, "会議の開催された場所を示すために使うようになった",
     "PROCEEDINGS と INPROCEEDINGS では、address フィールドは出版社の住所ではなく会議の開催地を表すようになりました[1]。",
     name=("PROCEEDINGS と INPROCEEDINGS では、address フィールドは会議の開催地ではなく出版社の住所を表すようになりました[1]。", "出版社", True),
     wrong=("開催",))
fact("ja-jbtx-18", J, 6, "plain, alpha, abbrv, unsrt に対応して jplain, jalpha, jabbrv",
     "JBibTeX には、plain・alpha・abbrv・unsrt に対応する標準スタイルとして jplain・jalpha・jabbrv・junsrt が用意されています[1]。",
     name=("JBibTeX には、plain・alpha・abbrv・unsrt に対応する標準スタイルとして jplain・jalpha・jabbrv・jsiam が用意されています[1]。", "jsiam"),
     wrong=("jplain",))
fact("ja-jbtx-19", J, 6, "ページ範囲指定を Page, Pages から p., pp. に変更した",
     "日本語対応のスタイルでは、ページ範囲の表記が Page, Pages から p., pp. に変えられています[1]。",
     name=("日本語対応のスタイルでは、ページ範囲の表記が Page, Pages から pg., pgs. に変えられています[1]。", "pgs"))
fact("ja-jbtx-20", J, 7, "フィールド名をミススペルするとそのフィールドは無視される",
     "フィールド名を綴り間違えると、そのフィールドは無視されてしまいます[1]。",
     negation="フィールド名を綴り間違えても、そのフィールドが無視されることはありません[1]。",
     wrong=("ミススペル",))
fact("ja-jbtx-21", J, 7, "article 論文誌中の論文,雑誌の記事.必須フィールド:author, title, journal, year",
     "article 型の必須フィールドは author、title、journal、year です[1]。",
     name=("article 型の必須フィールドは author、title、publisher、year です[1]。", "publisher"))
fact("ja-jbtx-22", J, 8, "漢字コード表記された著者名の「読み」を書くためのフィールドとして yomi がある",
     "JBibTeX の標準スタイルには、漢字で書かれた著者名の読みを記入する任意フィールド yomi があります[1]。",
     name=("JBibTeX の標準スタイルには、漢字で書かれた著者名の読みを記入する任意フィールド kana があります[1]。", "kana"),
     wrong=("yomi",))
fact("ja-jbtx-23", J, 9, "区切り文字以外の最後の 4 文字は,通常は 1984 のような 4 つの数字",
     "year フィールドには ‘(about 1984)’ のような形も書けますが、区切り文字を除いた末尾の 4 文字は通常 4 桁の数字でなければなりません[1]。",
     number=("year フィールドには ‘(about 1984)’ のような形も書けますが、区切り文字を除いた末尾の 2 文字は通常 2 桁の数字でなければなりません[1]。", "2"))
fact("ja-jbtx-24", J, 10, "標準スタイルで使っている 13 個のエントリ型",
     "標準スタイルの 13 種類のエントリ型でたいていの文献はうまく整形できますが、すべてに対応できるわけではありません[1]。",
     number=("標準スタイルの 15 種類のエントリ型でたいていの文献はうまく整形できますが、すべてに対応できるわけではありません[1]。", "15"),
     wrong=("13 個",))
fact("ja-jbtx-25", J, 12, "LATEX のコメント文字 ‘%’ はデータベースファイル中ではコメント文字ではない",
     "LaTeX のコメント文字 ‘%’ は、データベースファイルの中ではコメントとして扱われません[1]。",
     negation="LaTeX のコメント文字 ‘%’ は、データベースファイルの中でもコメントとして扱われます[1]。")

# ---------------------------------------------------------------- bxjscls-manual (Japanese)
fact("ja-bxjs-01", X, 2, "JS クラスは pLATEX と upLATEX のみをサポートするが",
     "JS クラスが対応するのは pLaTeX と upLaTeX だけですが、BXJS クラスはそれに加えて pdfLaTeX、XeLaTeX、LuaLaTeX でも使えます[1]。",
     name=("JS クラスが対応するのは pLaTeX と upLaTeX だけですが、BXJS クラスはそれに加えて pdfLaTeX、XeLaTeX、ConTeXt でも使えます[1]。", "ConTeXt"))
fact("ja-bxjs-02", X, 2, "基底フォントサイズが 10 pt 以外の時に TEX の版面拡大(mag)機能を利用している",
     "JS クラスは基底フォントサイズが 10 pt 以外のとき TeX の mag 機能で版面を拡大しますが、これが他のパッケージと衝突することがあります[1]。",
     number=("JS クラスは基底フォントサイズが 12 pt 以外のとき TeX の mag 機能で版面を拡大しますが、これが他のパッケージと衝突することがあります[1]。", "12"),
     wrong=("mag",))
fact("ja-bxjs-03", X, 3, "dvips、dvipdfmx、dviout、xdvi が指定できる",
     "DVI を出力するエンジンではドライバの指定が必須で、dvips、dvipdfmx、dviout、xdvi のいずれかを書きます[1]。",
     negation="DVI を出力するエンジンでもドライバの指定は必須ではなく、dvips、dvipdfmx、dviout、xdvi は省略できます[1]。",
     wrong=("dviout",))
fact("ja-bxjs-04", X, 3, "bxjsreport:章のあるレポート(jsreport に相当する)",
     "bxjsreport は章を持つレポート用のクラスで、jsreport に相当します[1]。",
     name=("bxjsreport は章を持つレポート用のクラスで、ltjsreport に相当します[1]。", "ltjsreport"))
fact("ja-bxjs-05", X, 4, "日本語処理パッケージとして bxcjkjatype",
     "エンジンに pdflatex を指定すると、日本語処理には bxcjkjatype パッケージが使われ、その中で CJK パッケージが読み込まれます[1]。",
     name=("エンジンに pdflatex を指定すると、日本語処理には zxjatype パッケージが使われ、その中で CJK パッケージが読み込まれます[1]。", "zxjatype"),
     wrong=("bxcjkjatype",))
fact("ja-bxjs-06", X, 6, "既定の和文フォントが「IPAex フォント」から「原ノ味フォント」に変更された",
     "2.0 版から、LuaLaTeX での既定の和文フォントは IPAex フォントではなく原ノ味フォントになりました[1]。",
     number=("1.8 版から、LuaLaTeX での既定の和文フォントは IPAex フォントではなく原ノ味フォントになりました[1]。", "1.8"))
fact("ja-bxjs-07", X, 6, "luatexja-preset パッケージの読込が行われるのは jafont を指定した場合に限られる",
     "luatexja-preset パッケージが読み込まれるのは、jafont を指定したときだけです[1]。",
     negation="luatexja-preset パッケージは、jafont を指定しなくても常に読み込まれます[1]。")
fact("ja-bxjs-08", X, 6, "後からユーザが geometry を読み込むことはできない",
     "BXJS クラスは内部で geometry パッケージを読み込んでいるため、ユーザが後から geometry を読み込むことはできません[1]。",
     negation="BXJS クラスは内部で geometry パッケージを読み込んでいますが、ユーザが後から geometry を読み込むこともできます[1]。",
     wrong=("後からユーザが geometry", "geometry を後から読み込むことはできない"))
fact("ja-bxjs-09", X, 6, "この処理を無効にするには nopapersize オプションを指定すればよい",
     "出力用紙サイズの自動設定を止めたい場合は nopapersize オプションを指定します[1]。",
     name=("出力用紙サイズの自動設定を止めたい場合は nogeometry オプションを指定します[1]。", "nogeometry"),
     wrong=("nopapersize",))
fact("ja-bxjs-10", X, 7, "hyperref のパッケージオプションで和文文字を含む文書情報を指定することはできない",
     r"和文文字を含む文書情報は hyperref のパッケージオプションでは指定できないので、\hypersetup を使います[1]。",
     negation="和文文字を含む文書情報も hyperref のパッケージオプションで指定できます[1]。")
fact("ja-bxjs-11", X, 7, "1.2 版より、\\bf や \\it 等の LATEX 2.09 方式のフォント選択命令の使用が非推奨となり",
     r"1.2 版から、\bf や \it のような LaTeX 2.09 方式のフォント命令は非推奨になり、使うと警告が出ます[1]。",
     number=(r"1.5 版から、\bf や \it のような LaTeX 2.09 方式のフォント命令は非推奨になり、使うと警告が出ます[1]。", "1.5"),
     wrong=("\\bf", "二文字フォント命令"))
fact("ja-bxjs-12", X, 9, "真偽値は、true(真)または false(偽)で指定する",
     "クラスオプションの真偽値は true か false で指定し、長さや整数には calc パッケージの式が使えます[1]。",
     name=("クラスオプションの真偽値は true か false で指定し、長さや整数には xparse パッケージの式が使えます[1]。", "xparse"))
fact("ja-bxjs-13", X, 9, "use-zw というオプション指定は use-zw=true と等価になる",
     "真偽値をとるオプションでキー名だけを書くと true を与えたことになり、use-zw は use-zw=true と同じ意味です[1]。",
     name=("真偽値をとるオプションでキー名だけを書くと true を与えたことになり、use-zw は use-zw=false と同じ意味です[1]。", "use-zw=false"))
fact("ja-bxjs-14", X, 11, "基底フォントサイズの既定値は 10 pt(bxjsslide クラスのみ 36 pt)である",
     "基底フォントサイズの既定値は１０ pt で、bxjsslide クラスだけは３６ pt です[1]。",
     number=("基底フォントサイズの既定値は１０ pt で、bxjsslide クラスだけは２４ pt です[1]。", "24"),
     wrong=("36 pt",))
fact("ja-bxjs-15", X, 11, "例えば 11pt は 10.95 pt、14pt は 14.4 pt が実際の設定値である",
     "11pt オプションで実際に設定されるのは 10.95 pt で、14pt オプションなら 14.4 pt になります[1]。",
     number=("11pt オプションで実際に設定されるのは 11.25 pt で、14pt オプションなら 14.4 pt になります[1]。", "11.25"))
fact("ja-bxjs-16", X, 11, "既定値は 0.924715",
     "和文スケール値の既定値は 0.924715 で、これは 13 Q を 10 pt で割った値です[1]。",
     number=("和文スケール値の既定値は 0.962216 で、これは 13 Q を 10 pt で割った値です[1]。", "0.962216"),
     wrong=("0.924715",))
fact("ja-bxjs-17", X, 12, "用紙サイズの既定値は A4 縦",
     "用紙サイズの既定は A4 縦(210 mm × 294 mm)です[1]。",
     number=("用紙サイズの既定は A4 縦(210 mm × 297 mm)です[1]。", "297"))
fact("ja-bxjs-18", X, 12, "この場合の既定値は 40 zw である",
     r"bxjsbook では \textwidth をこのオプションで指定する必要があり、既定値は４０ zw です[1]。",
     number=(r"bxjsbook では \textwidth をこのオプションで指定する必要があり、既定値は４５ zw です[1]。", "45"))
fact("ja-bxjs-19", X, 12, "UTF8-UTF16 のファイルがインストールされていないと、dvipdfmx の処理が失敗する",
     "bigcode では ToUnicode CMap に UTF8-UTF16 が使われるので、そのファイルがインストールされていないと dvipdfmx の処理が失敗します[1]。",
     negation="bigcode では ToUnicode CMap に UTF8-UTF16 が使われますが、そのファイルがインストールされていなくても dvipdfmx の処理は失敗しません[1]。",
     wrong=("UTF8-UTF16",))
fact("ja-bxjs-20", X, 12, "のサイズが増大する(1.5~2 倍)",
     "ActualText 生成機能は日本語処理と相性が悪く、使うと出力 PDF が 1.5~2 倍に大きくなります[1]。",
     number=("ActualText 生成機能は日本語処理と相性が悪く、使うと出力 PDF が 3~4 倍に大きくなります[1]。", "3"))
fact("ja-bxjs-21", X, 16, "bxjsbook:10pt、twoside、titlepage、openright",
     "bxjsbook クラスの既定のオプションは 10pt、twoside、titlepage、openright です[1]。",
     name=("bxjsbook クラスの既定のオプションは 10pt、twoside、titlepage、openleft です[1]。", "openleft"),
     wrong=("openright",))
fact("ja-bxjs-22", X, 17, "LuaTEX の 0.87 版以降では",
     "LuaTeX 0.87 以降では PDF 出力時の mag 設定が廃止されたので、usemag はサポートされずエラーになります[1]。",
     number=("LuaTeX 0.95 以降では PDF 出力時の mag 設定が廃止されたので、usemag はサポートされずエラーになります[1]。", "0.95"))
fact("ja-bxjs-23", X, 18, "なお、和文ドライバ指定(ja オプション)の既定値は minimal である",
     "和文ドライバを指定する ja オプションの既定値は minimal です[1]。",
     name=("和文ドライバを指定する ja オプションの既定値は standard です[1]。", "standard", True),
     wrong=("minimal",))
fact("ja-bxjs-24", X, 26, "thebibliography 環境の内部で呼び出されたものだけは対象から除外される",
     "二文字フォント命令の警告は、thebibliography 環境の中で呼ばれたものだけは対象外になります[1]。",
     name=("二文字フォント命令の警告は、tabular 環境の中で呼ばれたものだけは対象外になります[1]。", "tabular"),
     wrong=("thebibliography", "文献リスト環境中で警告を抑止"))
fact("ja-bxjs-25", X, 27, "将来に二文字フォント命令のサポートが廃止されることはない",
     "二文字フォント命令のサポートが将来廃止されることはありません[1]。",
     negation="二文字フォント命令のサポートは将来廃止される予定です[1]。")
fact("ja-bxjs-26", X, 23, "例えば 2\\jsZw が pLaTeX の 2zw に相当する",
     r"\jsZw は和文の全角幅を表す長さ命令で、2\jsZw は pLaTeX の 2zw にあたります[1]。",
     name=(r"\jsZw は和文の半角幅を表す長さ命令で、2\jsZw は pLaTeX の 2zw にあたります[1]。", "半角"))

# ---------------------------------------------------------------- batch 2 (tune only)
# Written after the first held-out measurement (which showed far more false flags than the tune split),
# from passages not used above, to learn where supported sentences get flagged: supported sentences
# only, all in the tune split whatever their hash, so the held-out split stays as it was.
def supported(id: str, doc: str, page: int, anchor: str, sentence: str) -> None:
    fact(id, doc, page, anchor, sentence, batch=2)


supported("en-natbib-b2-01", N, 1, "It can also emulate the sorting and compressing functions",
          "natbib can emulate the sorting and compressing of the cite package and the merging functions of Thorsten Ohl's mcite package [1].")
supported("en-natbib-b2-02", N, 5, "Here mybib is the root name of the BibTEX database file",
          r"In \bibliography{mybib}, mybib is the root name of the BibTeX database file (mybib.bib) holding the references the document needs [1].")
supported("en-natbib-b2-03", N, 10, "A warning is issued if the alias is used before it is defined",
          "natbib warns when an alias is used before it has been defined, or when an alias is redefined for a citation [1].")
supported("en-natbib-b2-04", N, 11, "ISBN for the ISBN number in books",
          "The plainnat family adds extra fields such as ISBN, ISSN, URL, DOI and EID [1].")
supported("en-natbib-b2-05", N, 16, "Make sure that the document has been processed at least twice",
          "Before running makeindex, process the document at least twice after the last BibTeX run [1].")
supported("en-natbib-b2-06", N, 20, "There is no way to override this",
          r"If a \bibitem entry fails to conform to the author–year formats, natbib switches to numerical mode automatically, and there is no way to override it [1].")
supported("en-natbib-b2-07", N, 22, "The options curly and angle are not really serious",
          "The curly and angle options are not meant seriously; they were added only to complete the list of bracket types [1].")
supported("en-natbib-b2-08", N, 24, "A major improvement was achieved with newapa.bst",
          "The newapa style of Stephen N. Spencer and Young U. Ryu was a major improvement on the earlier author–year styles [1].")
supported("en-hyperref-b2-01", H, 11, "debug boolean false extra diagnostic messages are printed",
          "The debug option is false by default; when set, extra diagnostic messages are printed in the log file [1].")
supported("en-hyperref-b2-02", H, 13, "pageanchor boolean true Determines whether every page is given an implicit anchor",
          r"With pageanchor, which is true by default, every page gets an implicit anchor at its top left corner; turning it off leaves \printindex without valid hyperlinks [1].")
supported("en-hyperref-b2-03", H, 13, "If no driver is specified, the package tries to find a driver",
          r"Without a driver option, hyperref first tries autodetection, then the driverfallback option, then the macro \Hy@defaultdriver, and finally uses hypertex [1].")
supported("en-hyperref-b2-04", H, 17, "pdfcenterwindow boolean false position the document window",
          "The pdfcenterwindow option positions the document window in the center of the screen and is false by default [1].")
supported("en-hyperref-b2-05", H, 19, "Fade The new page gradually becomes visible",
          "With the Fade page transition, the new page gradually becomes visible through the old one [1].")
supported("en-hyperref-b2-06", H, 27, "creates a bookmark with the specified text and at the given level",
          r"\pdfbookmark creates a bookmark with the given text at the given level, which is 0 by default, and its name must be unique [1].")
supported("en-hyperref-b2-07", H, 36, "pdfdoc uses PDFDocEncoding",
          "The pdfdoc encoding needs only one byte per character, but it supports a limited set of characters: 244 in PDF-1.7 [1].")
supported("en-hyperref-b2-08", H, 38, "Since 2006/02/12 v6.75a the PS/PDF driver should do this automatically",
          "Since version 6.75a of 2006/02/12, the PS/PDF driver is supposed to escape such characters automatically [1].")
supported("en-bash-b2-01", B, 7, "In interactive mode, they accept input typed from the keyboard",
          "An interactive shell accepts input typed at the keyboard, while a non-interactive one executes commands read from a file [1].")
supported("en-bash-b2-02", B, 9, "blank A space or tab character",
          "In the Bash manual's definitions, a blank is either a space or a tab character [1].")
supported("en-bash-b2-03", B, 16, "each command reads the previous command’s output",
          "In a pipeline, the output of each command is connected through a pipe to the input of the next one [1].")
supported("en-bash-b2-04", B, 51, "If a command fails because of an error during expansion or redirection",
          "A command that fails because of an expansion or redirection error has an exit status greater than zero [1].")
supported("en-bash-b2-05", B, 158, "When the -o history option to the set builtin is enabled",
          "When the -o history option of set is enabled, the shell gives access to the command history, the list of commands typed earlier [1].")
supported("en-bash-b2-06", B, 174, "Bash includes the select compound command",
          "Bash includes the select compound command, which makes it easy to generate simple menus [1].")
supported("en-bash-b2-07", B, 7, "It currently runs on nearly every version of Unix",
          "Bash currently runs on nearly every version of Unix, and independently supported ports exist for MS-DOS, OS/2 and Windows [1].")
supported("en-bash-b2-08", B, 91, "A colon-separated list of patterns used to decide which command lines should be saved",
          "HISTIGNORE holds a colon-separated list of patterns that decide which command lines are saved on the history list [1].")
supported("ja-jbtx-b2-01", J, 3, "この相互参照機能は,現在でも利用できる,古い BibTEX の参照の機能とは全く関係がない",
          "新しい相互参照機能は、今でも使える古い BibTeX の参照機能とはまったく関係ありません[1]。")
supported("ja-jbtx-b2-02", J, 5, "一般にソーティングは先ず “author” で,次に年,最後に表題で行う",
          "ソートは一般に、まず著者、次に年、最後に表題の順で行われます[1]。")
supported("ja-jbtx-b2-03", J, 5, "MASTERSTHESIS と PHDTHESIS エントリ型では,任意フィールドとして type を書けるようになった",
          "MASTERSTHESIS と PHDTHESIS では任意フィールド type が使えるので、‘PhD thesis’ の代わりに ‘Ph.D. dissertation’ と出力させられます[1]。")
supported("ja-jbtx-b2-04", J, 6, "MANUAL エントリ型では,author フィールドが空であれば",
          "MANUAL 型では、author フィールドが空なら organization フィールドが最初のブロックとして出力されます[1]。")
supported("ja-jbtx-b2-05", J, 8, "van Leunen は,大きな出版社に対してはこれを省略することを勧めている",
          "address には普通 publisher などの住所を書きますが、大きな出版社なら省略することが勧められています[1]。")
supported("ja-jbtx-b2-06", J, 10, "選択の余地があるのであれば,plain 標準スタイルを使うことを勧める",
          "スタイルを選べるのであれば、標準スタイルの plain を使うことが勧められています[1]。")
supported("ja-jbtx-b2-07", J, 11, "自分で月名を書かずに,3 文字の省略形を使うのがよい",
          "月は自分で名前を書くより、3 文字の省略形を使うほうが形式がそろいます[1]。")
supported("ja-jbtx-b2-08", J, 12, "MANUAL では,author に著者がなければ organization フィールドが使われ",
          "MANUAL 型では、author に著者がなければ organization フィールドが「著者」として使われます[1]。")
supported("ja-jbtx-b2-09", J, 13, "まとめると,BibTEX は名前の書き方として次の 3 つの形式を許す",
          "BibTeX は名前の書き方として “First von Last”、“von Last, First”、“von Last, Jr, First” の 3 つの形式を認めています[1]。")
supported("ja-jbtx-b2-10", J, 9, "ローマ字表記した姓名を著者名などと同じ書き方で記述する",
          "yomi フィールドは JBibTeX でのみ意味があり、日本語の著者名のソートやラベル作成のためにローマ字表記の名前を書きます[1]。")
supported("ja-bxjs-b2-01", X, 3, "bxjsslide:スライド(jsarticle + slide に相当する)",
          "bxjsslide はスライド用のクラスで、jsarticle に slide オプションを付けたものに相当します[1]。")
supported("ja-bxjs-b2-02", X, 6, "papersize オプションの処理は geometry パッケージの機能により行われる",
          "papersize の処理は geometry パッケージが行うので、hyperref などが持つ用紙サイズ設定の機能は BXJS クラスでは自動的に無効化されます[1]。")
supported("ja-bxjs-b2-03", X, 7, "\\textbf 命令を \\strong 命令に移譲させる",
          r"Pandoc モードでは、Pandoc の Strong 要素の出力に合わせるため、\textbf 命令が \strong 命令に移譲されます[1]。")
supported("ja-bxjs-b2-04", X, 12, "number-of-lines=h整数i:1 ページあたりの行数を指定する",
          "number-of-lines オプションで 1 ページあたりの行数を指定でき、これは geometry で lines を指定するのと同じです[1]。")
supported("ja-bxjs-b2-05", X, 13, "paragraph-mark=h文字 1 つi:パラグラフ(\\paragraph)の見出し先頭に付く記号",
          r"paragraph-mark オプションは \paragraph の見出しの先頭に付く記号を指定するもので、既定値は “■” です[1]。")
supported("ja-bxjs-b2-06", X, 16, "bxjsslide:36pt、oneside、notitlepage",
          "bxjsslide クラスの既定のオプションは 36pt、oneside、notitlepage です[1]。")
supported("ja-bxjs-b2-07", X, 17, "nomag:mag 設定を一切用いず",
          "nomag を選ぶと mag 設定をまったく使わず、代わりにページレイアウトのすべてのパラメタの値をスケールさせます[1]。")
supported("ja-bxjs-b2-08", X, 18, "pdfLATEX の場合:bxcjkjatype パッケージが whole と autotilde のオプション付で読み込まれる",
          "pdfLaTeX の場合、bxcjkjatype パッケージが whole と autotilde のオプションを付けて読み込まれます[1]。")
supported("ja-bxjs-b2-09", X, 22, "\\subtitle{hテキストi}:サブタイトルを設定する",
          r"\subtitle 命令でサブタイトルを設定すると、\maketitle の出力にサブタイトルが含まれるようになります[1]。")
supported("ja-bxjs-b2-10", X, 24, "pLATEX での \\setlength{\\kanjiskip}{h長さi} に相当する",
          r"\setkanjiskip は和文間空白の量を指定する命令で、pLaTeX の \setlength{\kanjiskip} に相当します[1]。")

# ---------------------------------------------------------------- batch 3 (tune only)
# Written after batch 2's fixes left the held-out figures unchanged: more supported sentences in the
# style of the first batch (answer phrasing, names of packages and documents, full-width forms),
# from unused passages, blind to the held-out sentences. Supported only, all in tune.
def supported3(id: str, doc: str, page: int, anchor: str, sentence: str) -> None:
    fact(id, doc, page, anchor, sentence, batch=3)


supported3("en-natbib-b3-01", N, 17, "There is a special option to the hyperref package: breaklinks",
           "With hyperref's breaklinks option, a long citation link text may be split over two lines instead of being kept on one [1].")
supported3("en-natbib-b3-02", N, 17, "The natbib package is compatible with the chapterbib package of Donald",
           "natbib works with the chapterbib package by Donald Arseneau and Niel Kempson, which allows several bibliographies in one document, usually one per chapter [1].")
supported3("en-natbib-b3-03", N, 9, "In summary, notes are only intended for \\citep but they may also be",
           r"Notes are really meant for \citep, although with single citations in author–year mode they also work with \citet [1].")
supported3("en-natbib-b3-04", N, 12, "the order of the keywords is unimportant",
           r"In \setcitestyle, any parameter you leave out stays as it was, and the keywords can be given in any order [1].")
supported3("en-natbib-b3-05", N, 15, "The lowest priority is assigned to the \\bibliographystyle command",
           r"When citation styles conflict, \bibliographystyle has the lowest priority, package options come next, and \setcitestyle, \bibpunct or \citestyle override both [1].")
supported3("en-hyperref-b3-01", H, 6, "colorlinks, as its name well implies, colors the links instead of using boxes",
           "The colorlinks option colours the text of links instead of drawing boxes around them, and the hyperref manual itself is typeset with it [1].")
supported3("en-hyperref-b3-02", H, 12, "anchor with name Doc-Start at the begin of the document",
           "hyperref sets an anchor called Doc-Start at the beginning of the document, which can clash with another document's when PDF files are merged [1].")
supported3("en-hyperref-b3-03", H, 14, "pagebackref boolean false Adds ‘backlink’ text to the end of each item in the",
           "The pagebackref option, off by default, adds back-links to the end of each bibliography item as a list of page numbers [1].")
supported3("en-hyperref-b3-04", H, 26, "\\begin{NoHyper}...\\end{NoHyper}",
           "Inside the NoHyper environment the hypertext functions do nothing, which the Elsevier classes use to keep hyperref out of their front matter [1].")
supported3("en-hyperref-b3-05", H, 33, "‘linktoc=all’ (both the section and page part are links)",
           "With linktoc=all, both the section part and the page number of a table of contents entry become links [1].")
supported3("en-bash-b3-01", B, 9, "job control A mechanism by which users can selectively stop",
           "Job control is the mechanism that lets users selectively stop (suspend) processes and restart (resume) them [1].")
supported3("en-bash-b3-02", B, 16, "The reserved word time causes timing statistics to be printed for the pipeline",
           "Putting the reserved word time in front of a pipeline makes Bash print timing statistics once it finishes [1].")
supported3("en-bash-b3-03", B, 7, "The shell waits for synchronous commands to complete before accepting more input",
           "The shell waits for a synchronous command to complete before it accepts more input, while asynchronous commands keep running in parallel [1].")
supported3("en-bash-b3-04", B, 91, "A pattern of ‘&’ is identical to ignoredups",
           "In HISTIGNORE, a pattern of '&' works like ignoredups and '[ ]*' like ignorespace [1].")
supported3("en-bash-b3-05", B, 158, "If HISTFILE is unset, or if the history file is unwritable",
           "If HISTFILE is unset or the history file cannot be written, the history is not saved [1].")
supported3("ja-jbtx-b3-01", J, 1, "open 書式では主ブロックの間で改行が行われるが,closed では行われない",
           "open 書式では主ブロックの間で改行されますが、closed 書式では改行されません[1]。")
supported3("ja-jbtx-b3-02", J, 4, "標準スタイル plain は著者名と発刊年でソートキーを作り",
           "標準スタイルの plain は著者名と発行年でソートキーを作るので、そのままでは発行の早い第 2 巻が先に並んでしまいます[1]。")
supported3("ja-jbtx-b3-03", J, 6, "著者名が日本語かどうかで名前のフォーマットの方法を変える",
           "JBibTeX の日本語対応スタイルは、著者名が日本語かどうかによって名前の書式を切り替えます[1]。")
supported3("ja-jbtx-b3-04", J, 7, "BibTEX は必須あるいは任意のフィールド以外は無視するから",
           "BibTeX は必須と任意以外のフィールドを無視するので、bib ファイルには好きなフィールドを書いて構いません[1]。")
supported3("ja-jbtx-b3-05", J, 10, "名前リストを “and others” で終りにしておけば",
           "author や editor の名前が多すぎるときは、リストを “and others” で終えておけば標準スタイルで “et al.” に変換されます[1]。")
supported3("ja-jbtx-b3-06", J, 11, "単にエントリの型の前の@文字を取り除けばよい",
           "エントリをコメントアウトするには、エントリの型の前にある @ を取るだけで十分です[1]。")
supported3("ja-jbtx-b3-07", J, 13, "Per Brinch Hansen の名前は次のようにタイプしなければならない",
           "Per Brinch Hansen という名前は \"Brinch Hansen, Per\" の形で入力しなければなりません[1]。")
supported3("ja-bxjs-b3-01", X, 5, "自動的に文書本体が CJK* 環境*6で囲まれかつ \\CJKtilde が有効な状態になっている",
           r"pdfLaTeX の場合は文書本体が自動的に CJK* 環境で囲まれ、\CJKtilde も有効になっているので、いきなり日本語を書き始められます[1]。")
supported3("ja-bxjs-b3-02", X, 8, "エンジンが DVI 出力である場合のドライバの既定値が dvipdfmx になる",
           "Pandoc モードでエンジンが DVI を出力する場合、ドライバの既定値は dvipdfmx になります[1]。")
supported3("ja-bxjs-b3-03", X, 10, "JS クラスとは異なり、papersize は既定で有効である",
           "JS クラスとは違い、BXJS クラスでは papersize が既定で有効です[1]。")
supported3("ja-bxjs-b3-04", X, 12, "use-zw=h真偽値i:\\jsZw と等価な命令として \\zw を定義するか",
           r"use-zw は \jsZw と同じ意味の命令として \zw を定義するかどうかを決めるオプションで、既定値は真です[1]。")
supported3("ja-bxjs-b3-05", X, 15, "openleft は部・章の開始を見開き左側のページ(偶数ページ)に強制する",
           "openleft を指定すると、部や章は見開きの左側のページ、つまり偶数ページから始まります[1]。")
supported3("ja-bxjs-b3-06", X, 19, "TEX Live 2019(およびその前の数年間)では",
           "TeX Live 2019 では、DVI ウェアの和文フォントマッピングの既定は IPAex フォントでした[1]。")
supported3("ja-bxjs-b3-07", X, 23, "\\ascpt:1 true pt を和文スケール値で割った長さ",
           r"\ascpt は 1 true pt を和文スケール値で割った長さで、\fontsize{9\ascpt}{13truept} とすれば和文が９ポイントになります[1]。")
supported3("ja-bxjs-b3-08", X, 25, "このフォールバック機能を実用したい場合は",
           "フォールバック機能を実際に使いたいなら、amstext か amsmath パッケージを一緒に読み込むのが望ましいです[1]。")

# ---------------------------------------------------------------- batch 4 (tune only)
# Written after the fourth held-out measurement, blind to the held-out sentences: supported sentences
# and their unsupported variants (number, name, negation, wrong passage) from passages not used above
# (pages no fact had used, or other facts of a used page), phrased as an answer would phrase them:
# synonyms, reordered clauses, units spelled out; in Japanese other particles, okurigana and
# katakana/kanji variants. All in tune.
def fact4(id: str, doc: str, page: int, anchor: str, sentence: str, **kwargs: object) -> None:
    fact(id, doc, page, anchor, sentence, batch=4, **kwargs)


fact4("en-bash-b4-01", B, 10, "token A sequence of characters considered a single unit by the shell",
      "In Bash terminology a token is a run of characters that the shell treats as one unit, and it is either a word or an operator [1].",
      name=("In Bash terminology a token is a run of characters that the shell treats as one unit, and it is either a word or a comment [1].", "comment"),
      wrong=("single unit",))
fact4("en-bash-b4-02", B, 24, "A coprocess is a shell command preceded by the coproc reserved word",
      "A coprocess runs asynchronously in a subshell, just as if the command had been ended with the '&' control operator, and the shell talks to it through a two-way pipe [1].",
      name=("A coprocess runs asynchronously in a subshell, just as if the command had been ended with the '&' control operator, and the shell talks to it through a one-way pipe [1].", "one-way"),
      negation="A coprocess is not run in a subshell, although it runs asynchronously as if the command had been ended with the '&' control operator [1].")
fact4("en-bash-b4-03", B, 24, "If NAME is not supplied, the default name is COPROC",
      "When you leave out NAME, the coprocess gets the default name COPROC [1].",
      wrong=("COPROC",))
fact4("en-bash-b4-04", B, 24, "When the coprocess is executed, the shell creates an array variable",
      "Running a coprocess creates an array variable called NAME; the coprocess's standard output is wired to the file descriptor in NAME[0] and its standard input to the one in NAME[1] [1].",
      number=("Running a coprocess creates an array variable called NAME; the coprocess's standard output is wired to the file descriptor in NAME[0] and its standard input to the one in NAME[2] [1].", "2"))
fact4("en-bash-b4-05", B, 24, "The process ID of the shell spawned to execute the coprocess",
      "The PID of the shell that runs the coprocess is stored in the variable NAME_PID, and the wait builtin can be used to wait until the coprocess terminates [1].",
      name=("The PID of the shell that runs the coprocess is stored in the variable NAME_PID, and the kill builtin can be used to wait until the coprocess terminates [1].", "kill"))
fact4("en-bash-b4-06", B, 33, "Omitting the colon results in a test only",
      "If you drop the colon from the operator, Bash only checks whether the parameter is set at all; with the colon it also checks that the value is not empty [1].",
      wrong=("colon",))
fact4("en-bash-b4-07", B, 33, "If parameter is null or unset, the expansion of word (or a message to that effect",
      "With ${parameter:?word}, an unset or empty parameter makes Bash write the expansion of word to standard error, and a non-interactive shell then exits [1].",
      negation="With ${parameter:?word}, an unset or empty parameter makes Bash write the expansion of word to standard error, but a non-interactive shell does not exit [1].",
      name=("With ${parameter:?word}, an unset or empty parameter makes Bash write the expansion of word to standard output, and a non-interactive shell then exits [1].", "standard output"))
fact4("en-bash-b4-08", B, 33, "Positional parameters and special parameters may not be assigned to in this way",
      "The ${parameter:=word} form cannot be used to assign positional parameters or special parameters [1].",
      negation="The ${parameter:=word} form can also be used to assign positional parameters and special parameters [1].")
fact4("en-bash-b4-09", B, 58, "If both options are supplied, -A takes precedence",
      "When readonly is given both -a and -A, the -A option wins and the names are treated as associative arrays [1].",
      name=("When readonly is given both -a and -A, the -a option wins and the names are treated as indexed arrays [1].", "indexed array", True))
fact4("en-bash-b4-10", B, 58, "If n is supplied, the return value is its least significant 8 bits",
      "If you pass n to return, only the lowest eight bits of n are used as the return value [1].",
      number=("If you pass n to return, only the lowest sixteen bits of n are used as the return value [1].", "sixteen"))
fact4("en-bash-b4-11", B, 58, "Shift the positional parameters to the left by n",
      "shift moves the positional parameters n places to the left, so the ones from n+1 up to $# are renamed $1 onwards [1].",
      number=("shift moves the positional parameters n places to the left, so the ones from n+2 up to $# are renamed $1 onwards [1].", "2"))
fact4("en-bash-b4-12", B, 58, "Evaluate a conditional expression expr and return a status of 0",
      "The test builtin evaluates a conditional expression and returns 0 when it is true and 1 when it is false; each operator and operand has to be passed as its own argument [1].",
      number=("The test builtin evaluates a conditional expression and returns 0 when it is true and 2 when it is false; each operator and operand has to be passed as its own argument [1].", "2"))
fact4("en-bash-b4-13", B, 86, "Assignment to BASH_ARGV0 causes the value",
      "Assigning a value to BASH_ARGV0 assigns the same value to $0 as well [1].",
      negation="Assigning a value to BASH_ARGV0 does not change $0 [1].")
fact4("en-bash-b4-14", B, 86, "The value may be a decimal number (e.g., 4.2) or an",
      "BASH_COMPAT sets the shell's compatibility level and accepts either a decimal such as 4.2 or an integer such as 42 [1].",
      number=("BASH_COMPAT sets the shell's compatibility level and accepts either a decimal such as 4.3 or an integer such as 43 [1].", "4.3"))
fact4("en-bash-b4-15", B, 86, "If BASH_COMPAT is set to a value that is not",
      "When BASH_COMPAT holds a value that is not a valid compatibility level, the shell prints an error message and falls back to the default level of the current version [1].",
      negation="When BASH_COMPAT holds a value that is not a valid compatibility level, the shell prints no error message and falls back to the default level of the current version [1].")
fact4("en-bash-b4-16", B, 101, "An interactive shell is one started without non-option arguments",
      "A shell counts as interactive when it is started without non-option arguments and without -c and has its input and error output on terminals, or when it is started with -i [1].",
      wrong=("interactive shell is one", "started with the -i"))
fact4("en-bash-b4-17", B, 101, "Alternatively, startup scripts may examine the variable PS1",
      "A startup script can also look at PS1, which is unset in non-interactive shells and set in interactive ones [1].",
      wrong=("PS1",))
fact4("en-bash-b4-18", B, 101, "When job control is in effect, Bash ignores",
      "While job control is active, Bash ignores the job control signals generated from the keyboard: SIGTTIN, SIGTTOU and SIGTSTP [1].",
      name=("While job control is active, Bash ignores the job control signals generated from the keyboard: SIGTTIN, SIGTTOU and SIGINT [1].", "SIGINT"))
fact4("en-hyperref-b4-01", H, 7, "In such cases \\theH<counter> should be",
      r"When \the<counter> is not unique or not expandable, define \theH<counter> so that it yields a unique, expandable value; doing so is harmless even when hyperref is not loaded [1].",
      negation=r"When \the<counter> is not unique or not expandable, define \theH<counter> so that it yields a unique, expandable value, but never when hyperref is not loaded [1].")
fact4("en-hyperref-b4-02", H, 7, "Currently this interface can be used for the keys pdfauthor",
      r"For now \GetDocumentProperties works for the keys pdfauthor, pdftitle, pdfproducer, pdfcreator, pdfsubject and pdfkeywords, and an unknown key gives back an empty value [1].",
      name=(r"For now \GetDocumentProperties works for the keys pdfauthor, pdftitle, pdflang, pdfcreator, pdfsubject and pdfkeywords, and an unknown key gives back an empty value [1].", "pdflang"))
fact4("en-hyperref-b4-03", H, 20, "citecolor green color of citation links",
      "The citecolor option sets the colour of citation links and is green unless you change it [1].",
      name=("The citecolor option sets the colour of citation links and is blue unless you change it [1].", "blue"),
      wrong=("citecolor",))
fact4("en-hyperref-b4-04", H, 20, "bookmarksnumbered false put section numbers in bookmarks",
      "Out of the box hyperref creates bookmarks, but it neither puts section numbers in them nor opens the bookmark tree [1].",
      negation="Out of the box hyperref creates bookmarks, puts section numbers in them and opens the bookmark tree [1].")
fact4("en-hyperref-b4-05", H, 20, "filecolor cyan color of file links",
      "Links to files are coloured cyan by default, which the filecolor option changes [1].",
      name=("Links to files are coloured magenta by default, which the filecolor option changes [1].", "magenta"))
fact4("en-natbib-b4-01", N, 7, "The starred versions can only list the full authors if the .bst file supports",
      "The starred commands print the full author list only when the .bst file supports it; otherwise they fall back to the abbreviated list [1].",
      negation="The starred commands print the full author list even when the .bst file does not support it [1].")
fact4("en-natbib-b4-02", N, 7, "If adjacent citations have the same author designation",
      "When neighbouring citations have the same authors but different years, natbib does not print the author names again [1].",
      negation="When neighbouring citations have the same authors but different years, natbib prints the author names again for each year [1].")
fact4("en-natbib-b4-03", N, 7, "The standard .bst files, such as plain.bst are numerical only",
      r"Standard .bst files such as plain.bst are numerical only and pass no author–year information to LaTeX, so \citet prints “(author?) [21]” with them [1].",
      number=(r"Standard .bst files such as plain.bst are numerical only and pass no author–year information to LaTeX, so \citet prints “(author?) [12]” with them [1].", "12"))
fact4("en-natbib-b4-04", N, 13, "The older command for setting the citation style is \\bibpunct",
      r"\bibpunct, the older way of setting the citation style, takes one optional argument and six mandatory ones [1].",
      number=(r"\bibpunct, the older way of setting the citation style, takes one optional argument and seven mandatory ones [1].", "seven"))
fact4("en-natbib-b4-05", N, 13, "For example, the American Geophysical Union (AGU) demands",
      "The American Geophysical Union requires citations in square brackets separated by semicolons, which its agu.bst file does not provide, so natbib defines a style for it [1].",
      name=("The American Physical Society requires citations in square brackets separated by semicolons, which its agu.bst file does not provide, so natbib defines a style for it [1].", "Physical Society"))

fact4("ja-jbtx-b4-01", J, 14, "アルファベット順でなく，五十音順にソートしたければ",
      "アルファベット順ではなく五十音順に並べ替えたい場合は、yomi フィールドへ読みを平仮名で書いておけばよいです[1]。",
      name=("アルファベット順ではなく五十音順に並べ替えたい場合は、yomi フィールドへ読みをカタカナで書いておけばよいです[1]。", "カタカナ"),
      wrong=("五十音順", "yomi"))
fact4("ja-jbtx-b4-02", J, 14, "ただし jalpha スタイルではラベルをうまく作り出すには工夫が必要である",
      "jalpha スタイルの場合、ラベルを上手に作り出すためには一工夫が要ります[1]。",
      name=("jipsj スタイルの場合、ラベルを上手に作り出すためには一工夫が要ります[1]。", "jipsj"))
fact4("ja-jbtx-b4-03", J, 2, "‘#’ の前後には，スペース6 か改行を置くことを忘れてはならない",
      "文字列をつなぐ ‘#’ の前後には、スペースか改行を必ず入れる必要があります[1]。",
      negation="文字列をつなぐ ‘#’ の前後には、スペースや改行を入れる必要はありません[1]。")
fact4("ja-jbtx-b4-04", J, 2, "3. BibTEX に新たな相互参照機能を付け加えた",
      "新しい相互参照機能の例では、no-gnats のエントリが crossref フィールドを使って gg-proceedings を参照しています[1]。",
      name=("新しい相互参照機能の例では、no-gnats のエントリが crossref フィールドを使って gg-conference を参照しています[1]。", "gg-conference"))
fact4("ja-jbtx-b4-05", J, 8, "techreport 学校などで発行されているテクニカルレポート",
      "techreport は学校等が発行する、ふつう通し番号の付いた技術報告で、author と title、institution、year が必須フィールドです[1]。",
      name=("techreport は学校等が発行する、ふつう通し番号の付いた技術報告で、author と title、journal、year が必須フィールドです[1]。", "journal"))
fact4("ja-jbtx-b4-06", J, 8, "この項目が “key” という名前なのは Scribe との互換性のため",
      "この項目が key と呼ばれているのは、Scribe と互換性を保つためです[1]。",
      name=("この項目が key と呼ばれているのは、Texinfo と互換性を保つためです[1]。", "Texinfo"))
fact4("ja-jbtx-b4-07", J, 8, "漢字コード著者名の姓と名の間にはスペース",
      "JBibTeX では、漢字の著者名の姓と名のあいだに半角か全角の空白を入れておくのが望ましいとされています[1]。",
      negation="JBibTeX では、漢字の著者名の姓と名のあいだに空白を入れないのが望ましいとされています[1]。")
fact4("ja-jbtx-b4-08", J, 12, "key フィールドがないと alpha スタイルは organization フィールドの情報から 3 文字のラベルを作る",
      "key フィールドが無い場合、alpha スタイルは organization フィールドから３文字のラベルを作ります[1]。",
      number=("key フィールドが無い場合、alpha スタイルは organization フィールドから４文字のラベルを作ります[1]。", "４"))
fact4("ja-jbtx-b4-09", J, 12, "一般に BibTEX は特殊文字中の TEX あるいは LATEX コマンドに対しては何の操作もほどこさない",
      "BibTeX は、特殊文字の中にある TeX や LaTeX のコマンドには基本的に何も手を加えません[1]。",
      negation="BibTeX は、特殊文字の中にある TeX や LaTeX のコマンドにも必ず手を加えます[1]。")
fact4("ja-bxjs-b4-01", X, 14, "compat(既定):JS クラスと同じ実装を用いる",
      r"既定の compat では JS クラスと同じ実装が使われ、\thesection 自体に語句が付け加えられるので、\thesection を参照する他のカウンタの書式が変になるかもしれません[1]。",
      name=(r"既定の legacy では JS クラスと同じ実装が使われ、\thesection 自体に語句が付け加えられるので、\thesection を参照する他のカウンタの書式が変になるかもしれません[1]。", "legacy"))
fact4("ja-bxjs-b4-02", X, 14, "none:節番号に対する語句の付加を抑止する",
      "none を選ぶと節番号に語句が付け加えられなくなり、欧文・和文の標準の文書クラスと同じ振る舞いになります[1]。",
      negation="none を選んでも節番号への語句の付加は抑止されず、欧文・和文の標準の文書クラスとは異なる振る舞いになります[1]。")
fact4("ja-bxjs-b4-03", X, 14, "(no)zw、(no)js、jadriver、noscale については、3.0 版で廃止する予定",
      "旧版互換用の (no)zw、(no)js、jadriver、noscale の各オプションは、バージョン 3.0 で廃止される見込みです[1]。",
      number=("旧版互換用の (no)zw、(no)js、jadriver、noscale の各オプションは、バージョン 4.0 で廃止される見込みです[1]。", "4.0"))
fact4("ja-bxjs-b4-04", X, 14, "※以上の 8 個は 1.9 版より前で使われた",
      "zw や nozw、js などの八つのオプションは、1.9 版より前のバージョンで使われていたものです[1]。",
      number=("zw や nozw、js などの八つのオプションは、1.7 版より前のバージョンで使われていたものです[1]。", "1.7"))
fact4("ja-bxjs-b4-05", X, 20, "jis2004=h真偽値i:漢字の字形について",
      "jis2004 を真にすると、漢字の字形で 2004JIS 字形を優先させる処理が行なわれ、既定値は偽です[1]。",
      negation="jis2004 を真にしても、漢字の字形で 2004JIS 字形を優先させる処理は行なわれません[1]。")
fact4("ja-bxjs-b4-06", X, 20, "units=h真偽値i:これを真にすると",
      "units オプションを有効にすると、zw や zh、Q、H といった pTeX の和文用単位がどのエンジンでも使えるようになり、そのために bxcalc パッケージが読み込まれます[1]。",
      name=("units オプションを有効にすると、zw や zh、Q、H といった pTeX の和文用単位がどのエンジンでも使えるようになり、そのために calctex パッケージが読み込まれます[1]。", "calctex"))
fact4("ja-bxjs-b4-07", X, 20, "strong=h値i:\\strong 命令・strongenv 環境で実際に適用される書体",
      r"pandoc 和文ドライバの strong パラメータは \strong 命令で使われる書体を選ぶもので、既定は bold、つまり太字（\bfseries）です[1]。",
      name=(r"pandoc 和文ドライバの strong パラメータは \strong 命令で使われる書体を選ぶもので、既定は italic、つまり斜体です[1]。", "italic"))
fact4("ja-bxjs-b4-08", X, 20, "fix-strong=h真偽値i:\\textbf 命令の動作を \\strong と同等にするか",
      r"fix-strong は \textbf の動作を \strong と同じにするかどうかを決めるパラメタで、既定では真になっています[1]。",
      negation=r"fix-strong は \textbf の動作を \strong と同じにするかどうかを決めるパラメタですが、既定では真になっていません[1]。")
fact4("ja-bxjs-b4-09", X, 20, "fix-code=h真偽値i",
      r"fix-code を真にすると、\texttt とまわりの和文の間に必ず和欧文間空白が入るようになり、既定値も真です[1]。",
      name=(r"fix-code を真にすると、\texttt とまわりの和文の間に必ず和文間空白が入るようになり、既定値も真です[1]。", "和文間空白"))
fact4("ja-bxjs-b4-10", X, 21, "BXJS クラスではページレイアウトの設定に geometry パッケージを用いて",
      "BXJS クラスのページレイアウトは geometry パッケージによって設定されています[1]。",
      name=("BXJS クラスのページレイアウトは typearea パッケージによって設定されています[1]。", "typearea"),
      wrong=("geometry",))
fact4("ja-bxjs-b4-11", X, 21, "bxjsbook の 1.2a 版以前では",
      "bxjsbook は 1.2a 版まで hmargin=36mm を使っていましたが、jsbook の水平マージンと同じにならないので、1.3 版で今の設定に改められました[1]。",
      number=("bxjsbook は 1.2a 版まで hmargin=36mm を使っていましたが、jsbook の水平マージンと同じにならないので、1.4 版で今の設定に改められました[1]。", "1.4"))
fact4("ja-bxjs-b4-12", X, 21, "横幅の全角整数倍への丸めは、whole-zw-lines=false 指定時には抑止される",
      "whole-zw-lines=false を指定した時は、横幅を全角幅の整数倍に丸める処理が行われません[1]。",
      negation="whole-zw-lines=false を指定した時も、横幅を全角幅の整数倍に丸める処理が行われます[1]。")
fact4("ja-bxjs-b4-13", X, 21, "\\setpagelayout*{h設定i}:用紙以外の設定をリセットして",
      r"\setpagelayout* を使うと、用紙以外の設定を一度リセットしてから、改めてページレイアウトを設定し直します[1]。",
      name=(r"\setpagelayout* を使うと、余白以外の設定を一度リセットしてから、改めてページレイアウトを設定し直します[1]。", "余白"))
fact4("ja-bxjs-b4-14", X, 26, "なお、\\em は「二文字の名前のフォント命令」であるが",
      r"\em は名前が二文字のフォント命令ですが、LaTeX 2ε でも標準の命令なので “二文字フォント命令” には入りません[1]。",
      negation=r"\em は名前が二文字のフォント命令で、LaTeX 2ε では標準の命令ではないので “二文字フォント命令” に入ります[1]。")
fact4("ja-bxjs-b4-15", X, 26, "ちなみに、LATEX 2ε が最初にリリースされたのは 1994 年のことである",
      "LaTeX 2ε の最初のリリースは 1994 年でした[1]。",
      number=("LaTeX 2ε の最初のリリースは 1996 年でした[1]。", "1996"))

# fmt: on

# ---------------------------------------------------------------- batch 5 (split by hash, as batch 1)
# Written after the fifth held-out measurement to make the held-out split large enough to measure
# false flags (49 supported sentences: one is 2-5 % of the figure), blind to the checker's verdicts:
# supported sentences and their variants from passages not used above, in batch5_en.py and
# batch5_ja.py; split by the fact's hash like batch 1.
# Batches 6 and 7 (batch6_*.py, batch7_*.py): the same, written after the sixth and seventh held-out
# measurements.
sys.path.insert(0, str(HERE))
import batch5_en  # noqa: E402
import batch5_ja  # noqa: E402
import batch6_en  # noqa: E402
import batch6_ja  # noqa: E402
import batch7_en  # noqa: E402
import batch7_ja  # noqa: E402

for _batch, _modules in ((5, (batch5_en, batch5_ja)), (6, (batch6_en, batch6_ja)), (7, (batch7_en, batch7_ja))):
    for _module in _modules:
        _module.add(
            lambda id, doc, page, anchor, sentence, b=_batch, **kw: fact(id, doc, page, anchor, sentence, batch=b, **kw)
        )


# ---------------------------------------------------------------- building
def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)*", unicodedata.normalize("NFKC", text)))


def held_out(fact_id: str) -> bool:
    return int(hashlib.sha256(fact_id.encode()).hexdigest(), 16) % 5 < 2


def load_chunks() -> dict[str, list[tuple[int, str]]]:
    from app.config import load_settings
    from app.documents.chunking import Chunker
    from app.documents.pdf_reader import read_pdf
    from app.models.embeddings import build_embedding_model

    settings = load_settings(ROOT / "config.yaml", data_dir=Path("/nonexistent"))
    model = build_embedding_model(settings.embeddings)
    chunker = Chunker(
        model.count_tokens, model.split_tokens, settings.documents.chunk_size, settings.documents.chunk_overlap
    )
    chunks: dict[str, list[tuple[int, str]]] = {}
    for doc in sorted({f.doc for f in FACTS}):
        chunks[doc] = [
            (page.number, c.text) for page in read_pdf(ROOT / "tests" / "data" / doc) for c in chunker.split(page.text)
        ]
    return chunks


def wrong_passage(fact: Fact, sentence: str, chunks: list[tuple[int, str]]) -> tuple[int, str]:
    from app.models.sparse import term_coverage

    keys = [_flat(k).casefold() for k in fact.wrong]
    candidates = [
        (page, text)
        for page, text in chunks
        if page != fact.page
        and text.count(". .") < 5  # tables of contents
        and not any(k in _flat(text).casefold() for k in keys)
    ]
    return max(candidates, key=lambda c: (term_coverage(sentence, c[1]), -c[0]))


def around(chunks: list[tuple[int, str]], page: int, text: str) -> str:
    """The chunks just before and after (page, text) in the document, as the app reads them around a
    cited chunk (app/answering/retrieval.py, `_add_surroundings`)."""
    k = chunks.index((page, text))
    return "\n".join(t for _, t in chunks[max(0, k - 1) : k] + chunks[k + 1 : k + 2])


def build(chunks: dict[str, list[tuple[int, str]]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for f in FACTS:
        assert f.id not in seen, f.id
        seen.add(f.id)
        found = [text for page, text in chunks[f.doc] if page == f.page and _flat(f.anchor) in _flat(text)]
        if not found:
            raise SystemExit(f"{f.id}: anchor not on page {f.page}: {f.anchor!r}")
        passage = found[0]
        if f.batch > 1:  # the chunk with most text after the anchor (the fact usually follows it)
            passage = min(found, key=lambda text: _flat(text).index(_flat(f.anchor)))

        def row(kind: str, sentence: str, label: str, passages: list[str], pages: list[int], f: Fact = f) -> None:
            rows.append(
                {
                    "id": f"{f.id}-{kind}",
                    "lang": f.id[:2],
                    "doc": f.doc.removesuffix(".pdf"),
                    "page": f.page,
                    "passages": passages,
                    "passage_pages": pages,
                    "surroundings": [around(chunks[f.doc], pg, text) for pg, text in zip(pages, passages, strict=True)],
                    "sentence": sentence,
                    "citations": [1],
                    "label": label,
                    "kind": kind,
                    "split": "held_out" if held_out(f.id) and f.batch in (1, 5, 6, 7) else "tune",
                    "fact": f.id,
                    "batch": f.batch,
                }
            )

        row("supported", f.sentence, "supported", [passage], [f.page])
        if f.number is not None:
            sentence, new = f.number
            assert new in _numbers(sentence) or new in sentence, (f.id, new)
            assert new not in _numbers(passage) and not re.search(rf"\b{new}\b", passage), (
                f.id,
                "number in passage",
                new,
            )
            row("number", sentence, "unsupported", [passage], [f.page])
        if f.name is not None:
            sentence, new, *inside = f.name
            assert new in sentence, (f.id, new)
            present = _flat(new).casefold() in _flat(passage).casefold()
            assert present == bool(inside and inside[0]), (
                f.id,
                "name in passage" if present else "swap not in passage",
                new,
            )
            row("name", sentence, "unsupported", [passage], [f.page])
        if f.negation is not None:
            row("negation", f.negation, "unsupported", [passage], [f.page])
        if f.wrong:
            page, text = wrong_passage(f, f.sentence, chunks[f.doc])
            row("wrong", f.sentence, "unsupported", [text], [page])
    return rows


# Batches 1-3 were cut by the reader as it was before 2026-12-06 07:42 UTC (commit e1e22ce), which
# turned full-width punctuation into ASCII (，．（）： as ,.():) and "…" into "...". Their rows are kept
# as they were measured (the held-out split above all); only later batches take today's passages.
FROZEN_BATCHES = (1, 2, 3)


def freeze(
    rows: list[dict[str, object]], kept: Path, chunks: dict[str, list[tuple[int, str]]]
) -> list[dict[str, object]]:
    """`rows` with those of FROZEN_BATCHES replaced by the same rows of the file `kept`, but for the
    text around their passages, which is today's (it was added later): around today's chunk that is
    the kept passage but for punctuation (NFKC folds the difference), or where the reader's change
    moved a chunk boundary (3 rows), around today's chunk of that page most like it."""
    if not kept.exists():
        return rows
    old = {r["id"]: r for r in map(json.loads, kept.read_text(encoding="utf-8").splitlines()) if r}
    out = []
    for r in rows:
        kept_row = old.get(str(r["id"]))
        if r["batch"] not in FROZEN_BATCHES or kept_row is None:
            out.append(r)
            continue
        doc = f"{r['doc']}.pdf"
        surroundings = []
        for then, page in zip(kept_row["passages"], kept_row["passage_pages"], strict=True):
            page_chunks = [(pg, t) for pg, t in chunks[doc] if pg == page]
            best = max(page_chunks, key=lambda c, then=then: _likeness(then, c[1]))
            surroundings.append(around(chunks[doc], *best))
        out.append({k: {**kept_row, "surroundings": surroundings}[k] for k in r})  # today's field order
    return out


def _likeness(a: str, b: str) -> float:
    import difflib

    a, b = _flat(a).replace("...", "…"), _flat(b).replace("...", "…")
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--rebuild-all"]
    out = Path(args[0]) if args else HERE / "claims.jsonl"
    chunks = load_chunks()
    rows = build(chunks)
    if "--rebuild-all" not in sys.argv:
        rows = freeze(rows, HERE / "claims.jsonl", chunks)
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    held = sum(r["split"] == "held_out" for r in rows)
    print(f"wrote {len(rows)} sentences ({held} held out) from {len(FACTS)} facts to {out}")


if __name__ == "__main__":
    main()
