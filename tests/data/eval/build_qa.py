# ruff: noqa: E501  (one question per line reads better than wrapped strings)
"""Regenerate tests/data/eval/qa.jsonl and verify every listed answer page.

Usage: python tests/data/eval/build_qa.py [OUTPUT]   (default: qa.jsonl next to this file)

Each entry below has, besides the published fields, ``ev``: a map from physical page
(1-based) to substrings that must occur on that page's text as extracted by pypdfium2
(after removing U+0002 and collapsing whitespace).  The script refuses to write the file
if any evidence string is missing, so a wrong page number cannot slip in silently.
``ev`` is not written to qa.jsonl.

``split``: "tune" for the first 76 questions (used to choose the retrieval settings and the
abstention thresholds), "heldout" for the questions at the end, written after those settings
were fixed and never used for calibration or tuning (see README.md next to this file).
"""

import json
import os
import re
import sys

import pypdfium2 as pdfium

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)  # tests/data

Q = []


def q(id, question, pdf, pages, lang, answer, ev=None, split="tune"):
    Q.append(
        dict(
            id=id,
            question=question,
            pdf=pdf,
            pages=pages,
            lang=lang,
            answerable=pdf is not None,
            answer=answer,
            split=split,
            ev=ev or {},
        )
    )


def heldout(*args, **kwargs):
    q(*args, **kwargs, split="heldout")


# ---------------------------------------------------------------- natbib (English)
N = "natbib.pdf"
q(
    "en-natbib-01",
    "What is the difference between \\citet and \\citep in natbib?",
    N,
    [4, 6],
    "en",
    "\\citet gives a textual citation, e.g. Jones et al. (1990); \\citep gives a parenthetical one, e.g. (Jones et al., 1990).",
    {
        4: ["for a parenthetical citation", "for a textual one"],
        6: ["for textual and parenthetical citations, respectively"],
    },
)
q(
    "en-natbib-02",
    "How do I get natbib to print citations inside [ ] instead of ( )?",
    N,
    [4, 21],
    "en",
    "The square option, e.g. \\usepackage[square]{natbib}.",
    {
        4: ["The square option says that references are to be", "enclosed in square bracket"],
        21: ["square for square brackets"],
    },
)
q(
    "en-natbib-03",
    "Which option do I load natbib with to get superscript numbers for citations, as the journal Nature uses?",
    N,
    [21],
    "en",
    "The super option (superscripted numerical citations).",
    {21: ["super for superscripted numerical citations, as in Nature"]},
)
q(
    "en-natbib-04",
    "My numeric citations come out as [4,2,8,3]. How can I get them ordered and collapsed into ranges like [2-4,8]?",
    N,
    [18, 22],
    "en",
    "Load natbib with the sort&compress option (sort only orders them; compress only compresses).",
    {
        18: ["[4,2,8,3]", "sort&compress"],
        22: [
            "sort&compress as sort but in addition multiple numerical citations are",
            "compressed if possible",
        ],
    },
)
q(
    "en-natbib-05",
    "Can I use natbib and the cite package at the same time?",
    N,
    [1, 18],
    "en",
    "No. natbib is not compatible with cite (or mcite); instead it emulates cite's sorting and compressing via its sort / sort&compress options.",
    {
        1: ["is not compatible with either cite or mcite themselves"],
        18: ["It is impossible to make the cite and natbib packages compatible"],
    },
)
q(
    "en-natbib-06",
    "How do I reduce the blank space between entries in my reference list?",
    N,
    [16],
    "en",
    "Change the length \\bibsep with \\setlength, e.g. \\setlength{\\bibsep}{0pt} removes the extra spacing.",
    {
        16: [
            "The vertical spacing between references in the list",
            "controlled by the length \\bibsep",
            "Change this by redefining \\bibsep with \\setlength command",
        ]
    },
)
q(
    "en-natbib-07",
    "Is there a way to show all the authors only the first time a work is cited and the shortened et al. form afterwards?",
    N,
    [8, 20, 22],
    "en",
    "Yes, use the longnamesfirst package option; \\shortcites{keys} exempts specific references.",
    {
        8: ["Include the option longnamesfirst to enable this"],
        20: ["This can be activated with the option longnamesfirst"],
        22: ["longnamesfirst makes the first citation of any reference the equivalent of"],
    },
)
q(
    "en-natbib-08",
    "I want to cite a reference as 'Paper I' instead of by its authors. How?",
    N,
    [10],
    "en",
    "Define an alias with \\defcitealias{key}{Paper~I}, then cite it with \\citetalias{key} or \\citepalias{key}.",
    {
        10: [
            "\\defcitealias{jon90}{Paper~I}",
            "\\citetalias{jon90} ⇒ Paper I",
            "\\citepalias{jon90} ⇒ (Paper I)",
        ]
    },
)
q(
    "en-natbib-09",
    "Can the plainnat bibliography styles print a DOI or URL for an entry? Which extra fields do they know?",
    N,
    [11],
    "en",
    "Yes: the plainnat family adds ISBN, ISSN, URL, DOI and EID fields.",
    {
        11: [
            "ISBN for the ISBN number in books",
            "ISSN for the ISSN number",
            "URL for the Internet address",
            "DOI the Digital Object Identifier",
            "EID electronic ID",
        ]
    },
)
q(
    "en-natbib-10",
    "What citation punctuation does natbib predefine for the agu bibliography style?",
    N,
    [13, 14],
    "en",
    "Square brackets, author-year mode, citations separated by semicolons.",
    {
        13: ["American Geophysical Union (AGU) demands", "square brackets and separated by", "semi-colons"],
        14: ["agu (American Geophysical Union): square, author–year, semi-colon"],
    },
)
q(
    "en-natbib-11",
    "If I choose the citation style both with package options and with \\setcitestyle, which setting takes precedence?",
    N,
    [15, 22],
    "en",
    "\\setcitestyle (and \\bibpunct, \\citestyle) override the package options, which in turn override the style implied by \\bibliographystyle.",
    {
        15: ["any selection by \\setcitestyle, \\bibpunct", "overrides those of the other methods"],
        22: ["The package options are overwritten by any explicit \\setcitestyle"],
    },
)
q(
    "en-natbib-12",
    "What does the fourth argument of \\bibpunct control?",
    N,
    [12, 13],
    "en",
    "The citation mode: 'n' for numerical, 's' for superscripted numerical, any other letter for author-year.",
    {
        12: [
            "Citation mode: authoryear or numbers or super (corresponds to",
            "fourth argument of \\bibpunct",
        ],
        13: ["the letter ‘n’ for numerical style, or ‘s’ for numerical superscript style"],
    },
)
q(
    "en-natbib-13",
    "An author's surname starts with a lowercase 'della'. How do I capitalise it when the citation begins a sentence?",
    N,
    [9],
    "en",
    "Use the upper-casing variants such as \\Citet, \\Citep, \\Citealt, \\Citealp or \\Citeauthor (e.g. \\Citet{dRob98} gives Della Robbia (1998)).",
    {9: ["2.5 Forcing Upper Cased Name", "\\Citet{dRob98} ⇒ Della Robbia (1998)"]},
)
q(
    "en-natbib-14",
    "How can I get every citation recorded in the document index automatically?",
    N,
    [16],
    "en",
    "Issue \\citeindextrue (and \\makeindex in the preamble); \\citeindexfalse turns it off again.",
    {
        16: [
            "2.13 Automatic Indexing of Citations",
            "only necessary to issue \\citeindextrue",
            "\\makeindex must also be issued in the preamble",
        ]
    },
)

# ---------------------------------------------------------------- hyperref (English)
H = "hyperref-doc.pdf"
q(
    "en-hyperref-01",
    "With colorlinks enabled, what colour are citation links by default?",
    H,
    [15, 20],
    "en",
    "Green (option citecolor, default green).",
    {
        15: ["citecolor color green Color for bibliographical citations in text"],
        20: ["citecolor green color of citation links"],
    },
)
q(
    "en-hyperref-02",
    "How do I keep links clickable but get rid of both the coloured text and the boxes around them?",
    H,
    [15, 20],
    "en",
    "Use the hidelinks option.",
    {
        15: ["hidelinks Hide links (removing color and border)"],
        20: ["hidelinks Hide links (removing color and border)"],
    },
)
q(
    "en-hyperref-03",
    "Does it matter where in the preamble I load hyperref relative to my other packages?",
    H,
    [6],
    "en",
    "Yes: load it last (after your other packages), since it redefines many LaTeX commands; a few packages documented in the compatibility section must come after it.",
    {
        6: [
            "Make sure it comes last of your loaded packages",
            "since its job is to redefine many LATEX commands",
        ]
    },
)
q(
    "en-hyperref-04",
    "Which hyperref option makes the PDF open in full-screen mode?",
    H,
    [10, 16],
    "en",
    "pdfpagemode=FullScreen.",
    {
        10: ["pdfpagemode=FullScreen"],
        16: ["pdfpagemode name empty Determines how the file is opening in Acrobat", "FullScreen"],
    },
)
q(
    "en-hyperref-05",
    "I wrote \\usepackage[pdfborder=0 0 1]{hyperref} and the PDF is broken. What went wrong and how do I fix it?",
    H,
    [11, 53, 54],
    "en",
    "LaTeX strips the spaces from package options, so hyperref receives pdfborder=001. Protect the value with braces (pdfborder={0 0 1}) or set it with \\hypersetup{pdfborder=0 0 1}.",
    {
        11: ["Especially option ‘pdfborder’ requires some care", "\\usepackage[pdfborder={0 0 0}]{hyperref}"],
        53: ["13.1 Spaces in option values", "\\usepackage[pdfborder=0 0 1]{hyperref}"],
        54: ["pdfborder=001", "\\usepackage[pdfborder={0 0 1}]{hyperref}"],
    },
)
q(
    "en-hyperref-06",
    "How can I make the PDF viewer show two pages side by side with the odd-numbered pages on the right?",
    H,
    [17, 19],
    "en",
    "Set pdfpagelayout=TwoPageRight (PDF 1.5; TwoColumnRight gives the continuous two-column variant).",
    {
        17: ["pdfpagelayout name empty set layout of PDF pages", "TwoPageRight"],
        19: ["TwoPageRight Displays two pages, odd-numbered pages to the right"],
    },
)
q(
    "en-hyperref-07",
    "Can I use cite.sty together with hyperref?",
    H,
    [47],
    "en",
    "Not directly; the workaround is to define a fake \\NAT@parse before loading hyperref with the hypertex option, so cite.sty works but citations are not hyperlinked.",
    {47: ["cite.sty cannot currently be used with hyperref", "\\def\\NAT@parse"]},
)
q(
    "en-hyperref-08",
    "My section title contains a formula and the PDF bookmark looks wrong. How do I give the bookmark a different plain-text version?",
    H,
    [27],
    "en",
    "Use \\texorpdfstring{TeX string}{PDF string} in the title.",
    {27: ["6.1.2 Replacement macros", "\\texorpdfstring{TEXstring}{PDFstring}"]},
)
q(
    "en-hyperref-09",
    "By default, what word does \\autoref print in front of a reference to a table?",
    H,
    [24],
    "en",
    "'Table' (from \\tablename; hyperref looks for \\tableautorefname first, so defining that changes it).",
    {24: ["\\tablename Table", "hyperref checks \\*autorefname before \\*name"]},
)
q(
    "en-hyperref-10",
    "What happens if I pass the draft option to hyperref?",
    H,
    [11, 20],
    "en",
    "All hypertext features are turned off (no hyperlinking is done).",
    {
        11: ["draft boolean false all hypertext options are turned off"],
        20: ["draft false do not do any hyperlinking"],
    },
)
q(
    "en-hyperref-11",
    "In what order does hyperref try to work out the driver when I haven't named one?",
    H,
    [13],
    "en",
    "1. autodetection (pdfTeX, XeTeX, VTeX), 2. the driverfallback option, 3. the macro \\Hy@defaultdriver, 4. the package default hypertex.",
    {
        13: [
            "If no driver is specified, the package tries to find a driver in the following order",
            "Option driverfallback",
            "Macro \\Hy@defaultdriver",
            "Package default is hypertex",
        ]
    },
)
q(
    "en-hyperref-12",
    "How do I add a fillable text input field to my PDF with hyperref?",
    H,
    [41, 42],
    "en",
    "Put the fields inside a Form environment and use \\TextField[parameters]{label}.",
    {41: ["You must put your fields inside a Form environment"], 42: ["\\TextField[parameters]{label}"]},
)
q(
    "en-hyperref-13",
    "How do I limit how many levels of headings appear in the PDF bookmarks?",
    H,
    [37],
    "en",
    "Use the bookmarksdepth option, e.g. \\hypersetup{bookmarksdepth=2} or a division name such as bookmarksdepth=paragraph; without a value it follows tocdepth.",
    {37: ["7.24 Option bookmarksdepth", "\\hypersetup{bookmarksdepth=paragraph}"]},
)

# ---------------------------------------------------------------- bash (English)
B = "bashref.pdf"
q(
    "en-bash-01",
    "How do I make a bash script abort as soon as any command fails?",
    B,
    [73],
    "en",
    "Use set -e (set -o errexit): the shell exits immediately if a pipeline, list or compound command returns a non-zero status (with some exceptions, e.g. in if tests or && / || lists).",
    {73: ["-e Exit immediately if a pipeline"]},
)
q(
    "en-bash-02",
    "What does turning on pipefail change about a pipeline's return code?",
    B,
    [16, 75],
    "en",
    "The pipeline returns the status of the last (rightmost) command that exited non-zero, or zero if all succeeded, instead of just the last command's status.",
    {
        16: ["unless", "the pipefail option is enabled"],
        75: ["pipefail If set, the return value of a pipeline is the value of"],
    },
)
q(
    "en-bash-03",
    "Which shopt option lets the ** glob match files in all subdirectories recursively?",
    B,
    [42, 80],
    "en",
    "globstar (shopt -s globstar).",
    {
        42: [
            "When the globstar shell option is enabled",
            "two adjacent ‘*’s used as a single pattern will match all files and zero or more directories",
        ],
        80: [
            "globstar If set, the pattern ‘**’ used in a filename expansion context will",
            "match all files and zero or more directories and subdirectories",
        ],
    },
)
q(
    "en-bash-04",
    "How many commands does bash remember in its history if I don't configure anything?",
    B,
    [91, 158],
    "en",
    "500: HISTSIZE defaults to 500 after the startup files are read.",
    {
        91: [
            "HISTSIZE The maximum number of commands to remember on the history list",
            "The shell sets the default value to 500",
        ],
        158: ["The text of the last $HISTSIZE commands (default 500) is saved"],
    },
)
q(
    "en-bash-05",
    "How can I stop repeated identical commands from cluttering my shell history?",
    B,
    [91],
    "en",
    "Set HISTCONTROL=ignoredups (or erasedups to remove all earlier duplicates; ignoreboth also skips lines starting with a space).",
    {
        91: [
            "A value",
            "of ‘ignoredups’",
            "causes lines which match the previous history entry to not be saved",
            "erasedups",
        ]
    },
)
q(
    "en-bash-06",
    "Which startup files does bash read when I open an interactive login shell?",
    B,
    [99],
    "en",
    "/etc/profile, then the first readable one of ~/.bash_profile, ~/.bash_login and ~/.profile (and ~/.bash_logout on exit).",
    {
        99: [
            "it first reads and executes commands from the file /etc/profile",
            "~/.bash_profile, ~/.bash_login, and",
            "~/.profile, in that order",
        ]
    },
)
q(
    "en-bash-07",
    "How do I check in a bash test that a file exists and is not empty?",
    B,
    [103],
    "en",
    "Use -s file, e.g. [ -s file ] (true if the file exists and has a size greater than zero).",
    {103: ["-s file True if file exists and has a size greater than zero."]},
)
q(
    "en-bash-08",
    "What escape do I put in PS1 to show only the last component of the current directory?",
    B,
    [111],
    "en",
    "\\W (the basename of $PWD, with $HOME abbreviated to ~); \\w shows the full path.",
    {111: ["\\W The basename of $PWD"]},
)
q(
    "en-bash-09",
    "Which special variable holds the exit code of the previous command?",
    B,
    [29, 51],
    "en",
    "$? - the exit status of the most recently executed foreground pipeline.",
    {
        29: ["? ($?) Expands to the exit status of the most recently executed foreground", "pipeline"],
        51: ["The exit status of the last command is available in the special parameter $?"],
    },
)
q(
    "en-bash-10",
    "What exit status does bash return when a command cannot be found?",
    B,
    [49, 51],
    "en",
    "127 (126 if the command is found but is not executable).",
    {
        49: ["returns an exit status of 127"],
        51: ["If a command is not found, the child process created to execute it returns a status of", "127"],
    },
)
q(
    "en-bash-11",
    "In shell arithmetic, is exponentiation evaluated before multiplication?",
    B,
    [105],
    "en",
    "Yes. ** has higher precedence than *, / and % (only unary operators, negation and increments bind tighter).",
    {105: ["** exponentiation", "* / % multiplication, division, remainder"]},
)
q(
    "en-bash-12",
    "How do I fall back to a default value when a variable is unset or empty?",
    B,
    [33],
    "en",
    "Use ${parameter:-word}: if parameter is unset or null, the expansion of word is substituted. (${parameter:=word} also assigns it.)",
    {33: ["If parameter is unset or null, the expansion of word is substituted"]},
)
q(
    "en-bash-13",
    "How do I search backwards through my command history while typing?",
    B,
    [126, 140],
    "en",
    "Press C-r (Ctrl-R) for an incremental reverse search (readline command reverse-search-history); C-s searches forward, C-g aborts.",
    {
        126: ["To search backward in the history for a particular", "string, type C-r"],
        140: ["reverse-search-history (C-r)", "This is an incremental search"],
    },
)

# ---------------------------------------------------------------- jbtxdoc (Japanese)
J = "jbtxdoc.pdf"
q(
    "ja-jbtx-01",
    "引用していない文献も含めて、データベースにある文献を全部参考文献リストに出すにはどうすればいいですか？",
    J,
    [2, 11],
    "ja",
    "\\nocite{*} を使う。データベース中のすべてのエントリを \\nocite したのと同じになる。",
    {
        2: ["‘\\nocite{*}’ コマンドひとつで", "すべての文献を並べたリストを作ることができる"],
        11: ["\\nocite{*} (データベースのすべての文献が列挙さ"],
    },
)
q(
    "ja-jbtx-02",
    "crossref で参照される側のエントリ（会議録など）は、bib ファイルのどこに書いておく必要がありますか？",
    J,
    [3],
    "ja",
    "それを参照しているすべてのエントリより後ろに置く必要がある（つまりファイルの最後の方に置く）。",
    {
        3: [
            "相互参照されているエントリは，それを引用してい",
            "すべてのエントリよりデータベースファイル中で後ろになければならない",
        ]
    },
)
q(
    "ja-jbtx-03",
    "日本語の著者名の文献を五十音順に並べたいのですが、どう書けばいいですか？",
    J,
    [9, 14],
    "ja",
    "yomi フィールドに読みをひらがなで書いておく（JBibTeX のみで有効）。",
    {
        9: ["yomi JBibTEX のみで意味を持つ", "ひらがなで書いて五十音順にソートしたりもできる"],
        14: ["五十音順にソートしたければ yomi フィールドに「ひらがな」で「読み」を書"],
    },
)
q(
    "ja-jbtx-04",
    "JBibTeX が扱う漢字コードを変えるにはどこを設定すればいいですか？",
    J,
    [1],
    "ja",
    "環境変数 BIBTERMCODE と BIBFILECODE で指定する（JTeX の \\kanjiterminaltype, \\kanjifiletype と同じ値）。",
    {1: ["漢字コード系は BIBTERMCODE, BIBFILECODE の 2 つの環境変数で変更可能"]},
)
q(
    "ja-jbtx-05",
    "修士論文を登録するときに必ず書かなければいけないフィールドは何ですか？",
    J,
    [7],
    "ja",
    "mastersthesis 型の必須フィールドは author, title, school, year。",
    {7: ["mastersthesis 修士論文．必須フィールド：author, title, school, year."]},
)
q(
    "ja-jbtx-06",
    "新しい版の abbrv スタイルでは、3 月と 9 月の略記はどう変わりましたか？",
    J,
    [5],
    "ja",
    "‘March’ と ‘Sep.’ の代わりに ‘Mar.’ と ‘Sept.’ を使うようになった。",
    {5: ["abbrv スタイルでは，月名として ‘March’ と ‘Sep.’ の替わりに ‘Mar.’ と ‘Sept.’ を使うようになった"]},
)
q(
    "ja-jbtx-07",
    "pages フィールドに 7-33 のようにハイフン 1 本で範囲を書いても大丈夫ですか？",
    J,
    [9],
    "ja",
    "大丈夫。標準スタイルがダッシュ 1 つの 7-33 を TeX の範囲表記 7--33 に自動変換する。",
    {9: ["7-33 のようなダッシュ1 つの形式を", "7--33 のようなダッシュ2 つ", "自動的に変換する"]},
)
q(
    "ja-jbtx-08",
    "month フィールドにはどのように書くのが推奨されていますか？",
    J,
    [9, 11],
    "ja",
    '月名を自分で書かず、jan, feb などの 3 文字の省略形（引用符なし）を使う。日付も入れたいときは month = jul # "~4," のように書く。',
    {9: ["3 文字", "の省略形を使うこと", "jan, feb, mar"], 11: ["3 文字の省略形を使うのがよい"]},
)
q(
    "ja-jbtx-09",
    "著者が多すぎるとき、途中から「et al.」と表示させるにはどう書けばいいですか？",
    J,
    [10],
    "ja",
    "著者リストを “and others” で終えると、標準スタイルで “et al.” に変換される（JBibTeX の漢字著者では “ほか”）。",
    {10: ["名前リストを “and others” で終りにしておけば", "“et al.” に自動的に変換される"]},
)
q(
    "ja-jbtx-10",
    "bib ファイルの中で % を付ければその行をコメントにできますか？",
    J,
    [11, 12],
    "ja",
    "できない。% はデータベースファイルではコメント文字ではない。エントリを無効にしたいときは型の前の @ を取り除くか、@COMMENT を使う。",
    {
        11: ["あるエントリをコメントアウトするには，単にエントリの型の前の@文", "字を取り除けばよい"],
        12: ["LATEX のコメント文字 ‘%’ はデータベースファイル中ではコメント文字ではない"],
    },
)
q(
    "ja-jbtx-11",
    "JBibTeX 用に用意されている日本語対応の標準スタイルにはどんなものがありますか？",
    J,
    [4, 6],
    "ja",
    "plain, alpha, abbrv, unsrt に対応する jplain, jalpha, jabbrv, junsrt（ほかに tipsj, jipsj, tieice, jorsj, jsai, jssst 用のスタイル）。",
    {
        4: ["対応する日本語用のスタイルは各々jplain, junsrt,jalpha, jabbrv である"],
        6: ["jplain, jalpha, jabbrv,", "junsrt が作成されている"],
    },
)
q(
    "ja-jbtx-12",
    "「Per Brinch Hansen」のように姓が 2 語からなる人の名前は、どう入力すれば正しく扱われますか？",
    J,
    [13],
    "ja",
    '"Brinch Hansen, Per" のように「姓, 名」の形で書く。',
    {13: ['"Brinch Hansen, Per"']},
)

# ---------------------------------------------------------------- bxjscls (Japanese)
X = "bxjscls-manual.pdf"
q(
    "ja-bxjs-01",
    "LuaLaTeX で BXJS クラスを使うと、日本語の処理にはどのパッケージが使われますか？",
    X,
    [6, 18],
    "ja",
    "LuaTeX-ja（luatexja パッケージ）が使われる。",
    {
        6: ["エンジン指定が lualatex の場合、日本語処理パッケージとして LuaTEX-ja を利用する"],
        18: ["LuaLATEX の場合：luatexja パッケージが読み込まれる"],
    },
)
q(
    "ja-bxjs-02",
    "BXJS クラスを使っている文書で、自分で \\usepackage{geometry} をしても大丈夫ですか？",
    X,
    [6, 13],
    "ja",
    "できない（クラスが内部で geometry を読み込むため）。レイアウト変更は \\setpagelayout などの再設定命令か \\geometry を使う。どうしても自分で読み込みたい場合は geometry=user オプションを指定する。",
    {
        6: ["後からユーザが geometry を読み込むことはできない"],
        13: ["user：文書クラスによる geometry パッケージの読込をスキップする"],
    },
)
q(
    "ja-bxjs-03",
    "XeLaTeX でフォントを何も指定しないと、和文はどのフォントで組まれますか？",
    X,
    [5, 18, 19],
    "ja",
    "原ノ味フォント（2.0 版から。それ以前は IPAex フォント）。",
    {
        5: ["2.0 版より、既定の和文フォントが「IPAex フォント」から「原ノ味フォント」に変更された"],
        18: ["XƎLATEX：「原ノ味フォント」が使用される"],
        19: ["2.0 版より「原ノ味フォント」に変更された"],
    },
)
q(
    "ja-bxjs-04",
    "Pandoc から bxjsarticle を使って PDF を作りたいです。コマンドラインの例はありますか？",
    X,
    [8],
    "ja",
    "pandoc 入力 -o 出力.pdf -t latex-smart --pdf-engine=xelatex -V papersize=a4 -V documentclass=bxjsarticle -V classoption=pandoc -V classoption=jafont=ipaex のように classoption=pandoc を指定する。",
    {8: ["-V documentclass=bxjsarticle", "-V classoption=pandoc"]},
)
q(
    "ja-bxjs-05",
    "14pt オプションを付けたのに本文がぴったり 14 ポイントになりません。ちょうど 14pt にするにはどうすればいいですか？",
    X,
    [11, 15],
    "ja",
    "14pt オプションの実際の値は 14.4 pt なので、base=14pt を指定する。",
    {11: ["14pt は 14.4 pt が実際の設定値である", "base=14pt は文字通り基底フォン"], 15: ["14pt（14.4 pt）"]},
)
q(
    "ja-bxjs-06",
    "bxjsbook クラスでは、片面・両面やタイトルページなどの初期設定はどうなっていますか？",
    X,
    [16],
    "ja",
    "10pt、twoside、titlepage、openright（共通で a4paper、onecolumn、final）。",
    {16: ["bxjsbook：10pt、twoside、titlepage、openright"]},
)
q(
    "ja-bxjs-07",
    "jsclasses では使えるのに BXJS クラスでは使えないオプションはどれですか？",
    X,
    [16],
    "ja",
    "report、slide（別クラス bxjsreport／bxjsslide になっている）、トンボの tombow・tombo・mentuke、和文フォントメトリックの jis・mingoth。",
    {16: ["4.3 JS クラスのオプションで使用不可能なもの", "tombow、tombo、mentuke", "jis、mingoth"]},
)
q(
    "ja-bxjs-08",
    "\\bf や \\it を使うたびに警告が出ます。警告を出さないようにできますか？",
    X,
    [13, 23, 27],
    "ja",
    "クラスオプション oldfontcommands を指定するか、文書中で \\allowoldfontcommands を実行する。",
    {
        13: ["oldfontcommands：\\bf 等の “二文字フォント命令” の使用を許容する"],
        23: ["\\allowoldfontcommands：これ以降に実行される二文字フォント命令を警告の対象にしない"],
        27: ["oldfontcommands：二文字フォント命令を警告の対象にしない"],
    },
)
q(
    "ja-bxjs-09",
    "数式の中に日本語を直接書いても出力されるのは、どのエンジンの場合ですか？",
    X,
    [26],
    "ja",
    "(u)platex と lualatex（enablejfam=true）、および xelatex で enablejfam=true にした場合。xelatex の既定（false）と pdflatex では不可。",
    {
        26: [
            "表 1 standard 和文ドライバにおける数式中の和文出力のサポート",
            "lualatex true 可",
            "pdflatex false 不可",
        ]
    },
)
q(
    "ja-bxjs-10",
    "BXJS クラスで用紙サイズを何も指定しなかった場合、何判になりますか？",
    X,
    [12, 16],
    "ja",
    "A4 判（縦）。",
    {12: ["用紙サイズの既定値は A4 縦"], 16: ["BXJS クラス共通：a4paper"]},
)
q(
    "ja-bxjs-11",
    "和文と英数字の間に入るスペースの幅を変えたいときに使う命令は何ですか？",
    X,
    [24],
    "ja",
    "\\setxkanjiskip{長さ}（pLaTeX の \\setlength{\\xkanjiskip}{長さ} に相当）。",
    {24: ["\\setxkanjiskip", "和欧文間空白の量を指定する"]},
)
q(
    "ja-bxjs-12",
    "pdfLaTeX で、PDF の文書情報のタイトルに日本語を入れることはできますか？",
    X,
    [7],
    "ja",
    "できる。\\hypersetup{pdftitle={日本語タイトル}} のように \\hypersetup で指定する（hyperref のパッケージオプションでは不可）。",
    {
        7: [
            "\\hypersetup 命令",
            "\\hypersetup{pdftitle={日本語タイトル}}",
            "hyperref のパッケージオプションで和文文字を含む文書情報を指定することはできない",
        ]
    },
)
q(
    "ja-bxjs-13",
    "エンジンを自動判定してくれる autodetect-engine オプションは、普段から使うべきですか？",
    X,
    [10],
    "ja",
    "推奨されない。どのエンジンでコンパイルするかはソースに明示すべきという考えで、LaTeX ソースの自動生成などの用途向けに用意されている。",
    {10: ["autodetect-engine：使用しているエンジンを判定して", "使用は推奨されない"]},
)

# ---------------------------------------------------------------- unanswerable
q(
    "en-none-01",
    "How do I switch my bibliography from natbib to biblatex with the biber backend?",
    None,
    [],
    "en",
    "",
)
q("en-none-02", "How much does an Adobe Acrobat Pro subscription cost per year?", None, [], "en", "")
q("en-none-03", "How do I merge cells vertically in a LaTeX table using multirow?", None, [], "en", "")
q("en-none-04", "What port does a PostgreSQL server listen on by default?", None, [], "en", "")
q("en-none-05", "In what year was Patrick W. Daly, the author of natbib, born?", None, [], "en", "")
q("en-none-06", "How do I make zsh my default login shell on macOS?", None, [], "en", "")
q("ja-none-01", "jlreq クラスで縦書きの文書を作るにはどうすればいいですか？", None, [], "ja", "")
q("ja-none-02", "奥村晴彦さんはどこの大学の先生ですか？", None, [], "ja", "")
q("ja-none-03", "Python で複数の PDF ファイルを 1 つに結合する方法を教えてください。", None, [], "ja", "")
q(
    "ja-none-04",
    "TeX Live をフルインストールするには、ディスク容量はどのくらい必要ですか？",
    None,
    [],
    "ja",
    "",
)
q(
    "ja-none-05",
    "MiKTeX で足りないパッケージを自動でインストールさせる設定はどこにありますか？",
    None,
    [],
    "ja",
    "",
)

# ---------------------------------------------------------------- held-out split
# Written after the retrieval settings and abstention thresholds were fixed; never used by
# calibration, bench/retrieval_sweep.py, bench/retrieval_alternatives.py or any threshold choice.
heldout(
    "en-natbib-15",
    "I want a citation that reads '(see Jones et al., 1990)': a word before the reference and nothing after it. What do I type?",
    N,
    [7],
    "en",
    "\\citep[see][]{key}: with two optional arguments the first is the pre-note and the second the post-note, so a pre-note alone needs an empty post-note.",
    {
        7: [
            "\\citep[see][]{jon90} ⇒ (see Jones et al., 1990)",
            "To have only a pre-note, it is necessary to provide an empty post-note text",
        ]
    },
)
heldout(
    "en-natbib-16",
    "In numerical mode, can several references share one number in the bibliography, the way the mcite package does it?",
    N,
    [19, 22],
    "en",
    "Yes: load natbib with the merge option and prefix the keys to be merged with *, e.g. \\citep{feynmann,*salam,*epr} (elide also removes repeated parts such as the authors).",
    {
        19: ["invoke the package option merge", "\\citep{feynmann,*salam,*epr}"],
        22: [
            "merge to allow the * prefix to the citation key, and to merge such a citation’s reference with that of the previous citation"
        ],
    },
)
heldout(
    "en-natbib-17",
    "One entry of my hand-made thebibliography doesn't follow the author-year format. What does natbib do?",
    N,
    [6, 20, 21],
    "en",
    "It switches the whole document to numerical citations; there is no way to override this (an alpha-style label like [ABC95] is treated the same way unless written as [ABC95()]).",
    {
        6: ["if any single \\bibitem entry does not conform to a syntax that", "switches stubbornly to numerical mode"],
        20: ["will automatically switch to numerical mode if any one of the \\bibitem entries fails to conform"],
        21: ["this label does not conform to the author–", "The citation mode switches to numerical"],
    },
)
heldout(
    "en-hyperref-14",
    "The table-of-contents entry I add for my index jumps to the page before the index. How do I make it land on the index itself?",
    H,
    [23, 24, 40],
    "en",
    "Set an anchor with \\phantomsection (after \\cleardoublepage) right before \\addcontentsline{toc}{chapter}{\\indexname} and \\printindex.",
    {
        23: ["\\phantomsection", "Often it is used in conjunction with \\addcontentsline"],
        24: ["\\addcontentsline{toc}{chapter}{\\indexname}", "for the index points to the start of the index page"],
        40: ["7.28 \\phantomsection", "for the index points to the start of the index page"],
    },
)
heldout(
    "en-hyperref-15",
    "How do I print a web address in the same style as \\url but without it becoming a link?",
    H,
    [23],
    "en",
    "Use \\nolinkurl{URL}.",
    {23: ["\\nolinkurl{URL}", "Write URL in the same way as \\url, without creating a hyperlink."]},
)
heldout(
    "en-hyperref-16",
    "My lemmas share a counter with my theorems, and \\autoref calls the lemmas 'Theorem'. How can I fix that?",
    H,
    [25],
    "en",
    "Use the aliascnt package: \\newaliascnt{lemma}{theorem}, \\newtheorem{lemma}[lemma]{Lemma}, \\aliascntresetthe{lemma}, and define \\lemmaautorefname.",
    {
        25: [
            "package aliascnt provides a",
            "\\newaliascnt{lemma}{theorem}",
            "\\providecommand*{\\lemmaautorefname}{Lemma}",
        ]
    },
)
heldout(
    "en-hyperref-17",
    "Can hyperref fill in the PDF's title and author metadata from my \\title and \\author automatically?",
    H,
    [37],
    "en",
    "Yes, with the pdfusetitle option (pdftitle and pdfauthor are derived from \\title and \\author).",
    {37: ["7.21 Option pdfusetitle", "hyperref tries to derive the values for pdftitle and pdfauthor from"]},
)
heldout(
    "en-bash-14",
    "My test [[ $s =~ ^([a-z]+)-([0-9]+)$ ]] succeeded. Where do I find the text matched by the second parenthesised group?",
    B,
    [23, 87],
    "en",
    "In ${BASH_REMATCH[2]}: element n of the BASH_REMATCH array holds the nth parenthesised subexpression, element 0 the whole match.",
    {
        23: ["The array variable BASH_REMATCH records which parts of the string matched"],
        87: ["An array variable whose members are assigned by the ‘=~’ binary operator"],
    },
)
heldout(
    "en-bash-15",
    "In a pipeline like cmd1 | cmd2 | cmd3, how can I read the exit code of every command, not just the last one?",
    B,
    [93],
    "en",
    "From the PIPESTATUS array, e.g. ${PIPESTATUS[0]} for cmd1; it holds the exit statuses of the most recent foreground pipeline.",
    {93: ["PIPESTATUS", "exit status values from the processes in the most-recently-executed foreground"]},
)
heldout(
    "en-bash-16",
    "How can I make an interactive bash session log out by itself when nobody has typed anything for a while?",
    B,
    [95, 96, 102],
    "en",
    "Set TMOUT to a number of seconds: an interactive shell exits if no complete line is typed within that time after the prompt.",
    {
        95: ["TMOUT If set to a value greater than zero, TMOUT is treated as the default timeout"],
        96: ["In an interactive shell, the value is interpreted as the number of seconds to", "Bash terminates after"],
        102: ["The shell will check the value of the TMOUT variable and exit if a command is not"],
    },
)
heldout(
    "ja-jbtx-13",
    "上下 2 巻の本で、第 2 巻のほうが発行年が古いため、文献リストで第 1 巻より前に来てしまいます。第 1 巻を先に並べるにはどうすればよいですか？",
    J,
    [4],
    "ja",
    '@PREAMBLE で \\newcommand{\\noopsort}[1]{} を定義し、year = "{\\noopsort{a}}1973"、year = "{\\noopsort{b}}1971" のように書く（印刷されるのは年だけで、ソートには a, b が使われる）。',
    {4: ["\\newcommand{\\noopsort}[1]{}", 'year = "{\\noopsort{a}}1973"', "望み通り第 1 巻が第 2 巻の前に並ぶ"]},
)
heldout(
    "ja-jbtx-14",
    "博士論文のエントリで、リストに「PhD thesis」ではなく「Ph.D. dissertation」と表示させたいのですが？",
    J,
    [5],
    "ja",
    'type フィールドを使い、type = "{Ph.D.} dissertation" と書く（MASTERSTHESIS と PHDTHESIS で任意フィールド type が使える）。',
    {
        5: [
            "MASTERSTHESIS と PHDTHESIS エントリ型では，任意フィールドとして type を書けるようになった",
            'type = "{Ph.D.} dissertation"',
        ]
    },
)
heldout(
    "ja-jbtx-15",
    "著者がおらず組織名だけのマニュアルを alpha スタイルで引用すると、ラベルが組織名の頭 3 文字になって分かりにくいです。略称のラベルにするには？",
    J,
    [12],
    "ja",
    'key フィールドに略称を書く（例：key = "ACM"）。MANUAL と PROCEEDINGS では alpha スタイルのラベル作成で key が organization より優先される。',
    {12: ["key フィールドが organization フィールドより優先する", 'key = "ACM"', "もっとよいラベル ‘[ACM86]’ と"]},
)
heldout(
    "ja-jbtx-16",
    "日本語の著者を何人も並べるとき、and の代わりに使える区切りはありますか？",
    J,
    [13],
    "ja",
    "JBibTeX では全角の “，” または “、” で区切ってもよい。",
    {13: ["全角の句点 “，” あるいは “、” を使う"]},
)
heldout(
    "ja-bxjs-14",
    "pdfLaTeX で BXJS クラスを使うと、和文と英字のあいだのアキは自動で入りますか？",
    X,
    [5],
    "ja",
    "入らない。CJK パッケージには自動挿入の機能がないので、日本語で~pdf{\\LaTeX}~する のように ~ を手で入れる。",
    {
        5: [
            "和欧文間空白（四分空き）は手動で ~ を入れる必要があ",
            "CJK パッケージには自動で和欧文間空白を入れる機能はない",
        ]
    },
)
heldout(
    "ja-bxjs-15",
    "\\paragraph の見出しの頭に付く黒い四角の記号を消すにはどうすればいいですか？",
    X,
    [13],
    "ja",
    "クラスオプション paragraph-mark の値を空にする（paragraph-mark=）。既定値は “■”。",
    {13: ["（\\paragraph）の見出し先頭に付く記号。既定値は “■”", "“paragraph-mark=” のように値を空にするのも可能"]},
)
heldout(
    "ja-bxjs-16",
    "b5paper を指定したときの用紙は JIS と ISO のどちらの B5 ですか？ISO の B5 にしたい場合は？",
    X,
    [11],
    "ja",
    "既定では JIS B5。iso-bsize オプションを付けると bNpaper が ISO B 判の意味になる。",
    {11: ["bNpaper の名前のオプションを ISO B 判の指定と見なす", "既定では bNpaper は JIS B 判の指定と見なされる"]},
)
heldout(
    "ja-bxjs-17",
    "指定した文字数の幅にテキストを均等割りするマクロを、pLaTeX 以外のエンジンでも動くように書くには？",
    X,
    [24],
    "ja",
    "\\setlength{\\kanjiskip}{\\fill} の代わりに standard 和文ドライバの \\setkanjiskip{\\fill} を使い、\\makebox[#1\\zw][s]{#2} で囲む。",
    {24: ["これと同等のものを、次のようにエンジン非依存な形で書くことができる", "\\setkanjiskip{\\fill}%"]},
)
heldout(
    "en-none-07",
    "How can I convert my .bib database into RIS format so that EndNote can import it?",
    None,
    [],
    "en",
    "",
)
heldout(
    "ja-none-06",
    "Overleaf で BXJS クラスの文書をコンパイルするとき、LuaLaTeX に切り替える設定はどこにありますか？",
    None,
    [],
    "ja",
    "",
)


def norm(s):
    s = s.replace("\x02", "").replace("\r", "")
    return re.sub(r"\s+", " ", s)


def main():
    texts = {}
    for item in Q:
        if item["pdf"] and item["pdf"] not in texts:
            doc = pdfium.PdfDocument(f"{DATA}/{item['pdf']}")
            texts[item["pdf"]] = [norm(doc[i].get_textpage().get_text_bounded()) for i in range(len(doc))]
    ok = True
    ids = set()
    for item in Q:
        assert item["id"] not in ids, item["id"]
        ids.add(item["id"])
        if not item["answerable"]:
            assert item["pages"] == [] and item["answer"] == ""
            continue
        assert sorted(item["pages"]) == item["pages"], item["id"]
        assert set(item["ev"]) == set(item["pages"]), item["id"]
        pages = texts[item["pdf"]]
        for p, evs in item["ev"].items():
            assert 1 <= p <= len(pages)
            for e in evs:
                if norm(e) not in pages[p - 1]:
                    ok = False
                    print(f"MISSING {item['id']} p{p}: {e!r}")
    if not ok:
        sys.exit(1)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "qa.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for item in Q:
            rec = {k: item[k] for k in ("id", "question", "pdf", "pages", "lang", "answerable", "answer", "split")}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    from collections import Counter

    c = Counter((i["split"], i["lang"], i["answerable"]) for i in Q)
    print(len(Q), dict(c))
    print(Counter(i["pdf"] for i in Q))


main()
