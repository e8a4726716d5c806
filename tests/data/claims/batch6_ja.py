# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Batch 6 of the claim-check set, Japanese: facts in the form of build_claims.py's `fact`
(see its docstring and README.md here); the batch number is added by build_claims.py."""

B, H, N, J, X = "bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


def add(fact) -> None:
    # fmt: off
    # ------------------------------------------------------------ jbtxdoc
    fact("ja-jbtx-b6-01", J, 1, "第 3 節は LATEX book [2] の付録 B.2 の修正であり", "第３節は LaTeX book の付録 B.2 に手を加えたもので、ほかの文書には書かれていない一般的な事項や特殊な事項は第４節で扱われています[1]。", number=("第３節は LaTeX book の付録 B.2 に手を加えたもので、ほかの文書には書かれていない一般的な事項や特殊な事項は第５節で扱われています[1]。", "5"))
    fact("ja-jbtx-b6-02", J, 2, "0.99 と 1.00 の間ではもっとずっと少なくなるであろう", "BibTeX の 0.98i と 0.99a の間には相違点がたくさんありますが、0.99 と 1.00 の間の違いはそれよりずっと少なくなる見込みです[1]。", number=("BibTeX の 0.98i と 0.99a の間には相違点がたくさんありますが、0.99 と 1.01 の間の違いはそれよりずっと少なくなる見込みです[1]。", "1.01"))
    fact("ja-jbtx-b6-03", J, 4, "ここに書いた文字列 (多くの場合 LATEX のマクロ) をそのまま bbl", "標準スタイルは、@PREAMBLE に書かれた文字列（たいていは LaTeX のマクロ）を手を加えずに bbl ファイルへ書き出します[1]。", name=("標準スタイルは、@PREAMBLE に書かれた文字列（たいていは LaTeX のマクロ）を手を加えずに aux ファイルへ書き出します[1]。", "aux"))
    fact("ja-jbtx-b6-04", J, 4, "スタイル作成者に関係した変更点は", "一般の利用者にかかわる標準スタイルは plain、unsrt、alpha、abbrv で、スタイルを作る人に関係する変更点は “Designing BibTeX Styles” のほうに書かれている[1]。", wrong=("Designing",))
    fact("ja-jbtx-b6-05", J, 6, "INCOLLECTION エントリ型では，series と edition フィールドを許す", "INCOLLECTION 型のエントリでは、series と edition の各フィールドが使えるようになりました[1]。", name=("INBOOK 型のエントリでは、series と edition の各フィールドが使えるようになりました[1]。", "INBOOK", True))
    fact("ja-jbtx-b6-06", J, 6, "一番最初に決めなければならないことは", "文献をデータベースに登録するときにまず決めなくてはいけないのは、その文献がどの型（種類）のエントリかということです[1]。", wrong=("最初に決め", "エントリの型"))
    fact("ja-jbtx-b6-07", J, 7, "必須これが欠落していると警告メッセージが出力され", "必須フィールドが欠けていれば警告メッセージが出て、まれには文献リストがおかしな形で出力されることもある[1]。", negation="必須フィールドが欠けていても警告メッセージは出ず、文献リストがおかしな形で出力されることもない[1]。")
    fact("ja-jbtx-b6-08", J, 7, "注意：フィールド名をミススペルすると", "フィールド名を綴り間違えるとそのフィールドは無視されてしまい、特に任意フィールドでは BibTeX が警告を出さないので、タイプミスには気を付けなければなりません[1]。", negation="フィールド名を綴り間違えるとそのフィールドは無視されてしまいますが、任意フィールドであっても BibTeX が警告を出してくれるので、タイプミスを気にする必要はありません[1]。")
    fact("ja-jbtx-b6-09", J, 9, "school 修士論文，博士論文が書かれた", "school フィールドには、修士論文や博士論文が書かれた（提出された）大学の名前を入れます[1]。", name=("institution フィールドには、修士論文や博士論文が書かれた（提出された）大学の名前を入れます[1]。", "institution"), wrong=("school",))
    fact("ja-jbtx-b6-10", J, 10, "1. BibTEX のスタイル設計言語を使えば", "BibTeX のスタイル設計言語を使えば、参考文献リストを作る以外に、一般的なデータベース操作のプログラムも作れます[1]。", negation="BibTeX のスタイル設計言語では、参考文献リストを作ることしかできず、一般的なデータベース操作のプログラムは作れません[1]。")
    fact("ja-jbtx-b6-11", J, 11, "unsrt スタイルを \\nocite{*}", r"引用順に文献を並べる unsrt スタイルを \nocite{*} と組み合わせたときは、文書中で \nocite{*} 命令を置いた位置によって文献の並び順が決まる[1]。", name=(r"引用順に文献を並べる plain スタイルを \nocite{*} と組み合わせたときは、文書中で \nocite{*} 命令を置いた位置によって文献の並び順が決まる[1]。", "plain"))
    fact("ja-jbtx-b6-12", J, 11, "MASTERSTHESISと PHDTHESISのエントリ形はScribe との互換性", "MASTERSTHESIS と PHDTHESIS という型名は Scribe と互換にするために付けられたもので、MINORTHESIS と MAJORTHESIS のほうがよい名前だったかもしれないそうです[1]。", wrong=("MASTERSTHESIS", "MINORTHESIS", "PHDTHESIS"))
    fact("ja-jbtx-b6-13", J, 12, "としておけば，alpha スタイルは", "organization を \"Unilogic, Ltd.\" としておけば、key フィールドがなくても alpha スタイルは ‘[Uni86]’ という妥当なラベルを生成します[1]。", number=("organization を \"Unilogic, Ltd.\" としておけば、key フィールドがなくても alpha スタイルは ‘[Uni87]’ という妥当なラベルを生成します[1]。", "87"))
    # ------------------------------------------------------------ bxjscls-manual
    fact("ja-bxjs-b6-01", X, 4, "jafont の値をプリセットオプションとして pxchfon が読み込まれる", "pLaTeX エンジンで jafont を指定すると、その値をプリセットオプションにして pxchfon パッケージが読み込まれます[1]。", name=("pLaTeX エンジンで jafont を指定すると、その値をプリセットオプションにして zxjafont パッケージが読み込まれます[1]。", "zxjafont"))
    fact("ja-bxjs-b6-02", X, 4, "BXJS では mingoth 等の論理フォント変更のオプション", "pLaTeX の場合、論理フォントは明朝に jis、ゴシックに jisg が使われ、BXJS では mingoth のような論理フォントを変えるオプションはサポートされていません[1]。", negation="pLaTeX の場合、論理フォントは明朝に jis、ゴシックに jisg が使われ、BXJS でも mingoth のような論理フォントを変えるオプションがサポートされています[1]。")
    fact("ja-bxjs-b6-03", X, 5, "CJK パッケージには自動で和欧文間空白を入れる機能はない", "CJK パッケージには、和欧文間のスペースを自動的に挿入する機能がありません[1]。", negation="CJK パッケージには、和欧文間のスペースを自動的に挿入する機能があります[1]。")
    fact("ja-bxjs-b6-04", X, 7, "pxjahyper パッケージを読み込む必要がない", "(u)pLaTeX ではたいていの場合 pxjahyper パッケージを読み込まなくてよいが、読み込んでも差し支えはなく、必要になる場合もある[1]。", negation="(u)pLaTeX ではたいていの場合 pxjahyper パッケージを読み込まなければならない[1]。")
    fact("ja-bxjs-b6-05", X, 8, "\\documentclass[a4paper,jafont=ipaex,pandoc]{bxjsarticle}", r"この bxjsarticle の例で途中に生成される LaTeX 文書では、クラス指定が \documentclass[a4paper,jafont=ipaex,pandoc]{bxjsarticle} となります[1]。", name=(r"この bxjsarticle の例で途中に生成される LaTeX 文書では、クラス指定が \documentclass[a4paper,jafont=haranoaji,pandoc]{bxjsarticle} となります[1]。", "haranoaji"))
    fact("ja-bxjs-b6-06", X, 10, "エンジンが DVI 出力の場合に限り、指定のドライバオプションを有効にする", "dvi=<ドライバ名> はエンジンが DVI を出力するときだけ指定したドライバオプションを有効にするオプションで、autodetect-engine と一緒に使うことが想定されています[1]。", name=("dvi=<ドライバ名> はエンジンが DVI を出力するときだけ指定したドライバオプションを有効にするオプションで、nodvidriver と一緒に使うことが想定されています[1]。", "nodvidriver"))
    fact("ja-bxjs-b6-07", X, 11, "プリセット指定の値が丸括弧を含む", "プリセット指定の値が “sourcehan(-otc)” のように丸括弧を含むときは、XeLaTeX や LuaLaTeX では括弧で囲まれた部分を取り除いた “sourcehan” が、それ以外のエンジンでは括弧だけを消した “sourcehan-otc” が使われる[1]。", wrong=("sourcehan", "丸括弧"))
    fact("ja-bxjs-b6-08", X, 14, "v1：1.2a 版以前の（本来は不適切な）水平マージンの設定を適用する", "bxjsbook クラスで layout=v1 を指定すると、1.2a 版以前の、本来は適切でない水平マージンの設定が適用されます[1]。", number=("bxjsbook クラスで layout=v1 を指定すると、1.3a 版以前の、本来は適切でない水平マージンの設定が適用されます[1]。", "1.3"))
    fact("ja-bxjs-b6-09", X, 14, "JS クラスに新設された jsreport クラスのレイアウトを継承する", "bxjsreport クラスのレイアウトは、既定の v2 だと JS クラスに新しく加わった jsreport クラスのレイアウトを受け継ぎ、v1 は従来の “jsbook クラス + report オプション” のレイアウトを受け継ぎます[1]。", name=("bxjsreport クラスのレイアウトは、既定の v2 だと JS クラスに新しく加わった jsarticle クラスのレイアウトを受け継ぎ、v1 は従来の “jsbook クラス + report オプション” のレイアウトを受け継ぎます[1]。", "jsarticle"))
    fact("ja-bxjs-b6-10", X, 15, "10pt が jbase=13Q に相当するので", "JS クラスの固定された和文スケール値に従うと 10pt は jbase=13Q にあたるので、13Q というオプションは用意されていません[1]。", number=("JS クラスの固定された和文スケール値に従うと 10pt は jbase=12Q にあたるので、13Q というオプションは用意されていません[1]。", "12"))
    fact("ja-bxjs-b6-11", X, 16, "基底フォントサイズが 20 pt だとすると", "基底フォントサイズを 20 pt にした場合は、まず縦横が半分の用紙に対して 10 pt としてレイアウトを決め、それを縦横２倍に拡大するという手順になります[1]。", number=("基底フォントサイズを 20 pt にした場合は、まず縦横が半分の用紙に対して 10 pt としてレイアウトを決め、それを縦横３倍に拡大するという手順になります[1]。", "3"))
    fact("ja-bxjs-b6-12", X, 17, "magstyle オプションの既定値は usemag である", "magstyle オプションのデフォルトは usemag ですが、例外として usemag に対応していないエンジンでは nomag* がデフォルトになります[1]。", wrong=("usemag",))
    fact("ja-bxjs-b6-13", X, 23, "\\jaenspace：半角（0.5 \\jsZw）幅の水平空き", r"\jaenspace は半角、つまり 0.5 \jsZw の幅の水平方向の空きを入れる命令です[1]。", number=(r"\jaenspace は半角、つまり 0.25 \jsZw の幅の水平方向の空きを入れる命令です[1]。", "0.25"), wrong=("jaenspace",))
    # fmt: on
