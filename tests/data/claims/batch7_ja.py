# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Batch 7 of the claim-check set, Japanese: facts in the form of build_claims.py's `fact`
(see its docstring and README.md here); the batch number is added by build_claims.py."""

B, H, N, J, X = "bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


def add(fact) -> None:
    # fmt: off
    # ------------------------------------------------------------ jbtxdoc
    fact("ja-jbtx-b7-01", J, 1, "この文書は BibTEX version 1.00 が完成した時に拡充される", "この文書は、BibTeX の version 1.00 ができあがった時点で拡充されることになっています[1]。", number=("この文書は、BibTeX の version 1.10 ができあがった時点で拡充されることになっています[1]。", "1.10"))
    fact("ja-jbtx-b7-02", J, 1, "3 訳注：JBibTEX はJLATEX とともに使う", "JBibTeX は JLaTeX と組み合わせて使うもので、その基になっているのは BibTeX の 0.99c です[1]。", name=("JBibTeX は pLaTeX と組み合わせて使うもので、その基になっているのは BibTeX の 0.99c です[1]。", "pLaTeX"))
    fact("ja-jbtx-b7-03", J, 4, "使える@PREAMBLE コマンドの数には上限があるが", "使える @PREAMBLE コマンドの数には上限があって、無制限に書けるわけではありません[1]。", negation="使える @PREAMBLE コマンドの数には上限がなく、いくつでも書けます[1]。")
    fact("ja-jbtx-b7-04", J, 4, "7 訳注：日本語用のスタイルでは，yomi というフィールドがあれば", "日本語用のスタイルでは、yomi フィールドがあるとそれを著者名のかわりに使うので、文献が読みのアルファベット順に並びます[1]。", wrong=("yomi", "読み"))
    fact("ja-jbtx-b7-05", J, 7, "inproceedings 会議録中の論文", "会議録に載った論文には inproceedings 型を使い、必須フィールドは author、title、booktitle、year の４つです[1]。", number=("会議録に載った論文には inproceedings 型を使い、必須フィールドは author、title、booktitle、year の５つです[1]。", "5"))
    fact("ja-jbtx-b7-06", J, 7, "mastersthesis 修士論文．必須フィールド：author, title, school, year", "修士論文を表す mastersthesis では author・title・school・year が必須で、type・address・month・note は任意フィールドとして書けます[1]。", name=("修士論文を表す mastersthesis では author・title・institution・year が必須で、type・address・month・note は任意フィールドとして書けます[1]。", "institution"))
    fact("ja-jbtx-b7-07", J, 8, "「著者」情報が欠けているエントリに対しては必ず key フィールドを入れておかないといけない", "「著者」の情報がないエントリには、必ず key フィールドを書いておかなければなりません[1]。", negation="「著者」の情報がないエントリであっても、key フィールドを書いておく必要はありません[1]。")
    fact("ja-jbtx-b7-08", J, 9, "標準のスタイルでは 7-33 のようなダッシュ1 つの形式", "標準スタイルは、7-33 のようにダッシュ１本で書いたページ範囲を、TeX で数の範囲を表す 7--33 のようなダッシュ２本の形に自動で直してくれます[1]。", negation="標準スタイルは、7-33 のようにダッシュ１本で書いたページ範囲を、TeX で数の範囲を表す 7--33 のようなダッシュ２本の形に自動で直すことはしません[1]。")
    fact("ja-jbtx-b7-09", J, 10, "The Chicago Manual of Style [1], は引用が本文中に", "The Chicago Manual of Style では、本文中に ‘(Jones, 1986)’ のような形で引用を入れる「著者-年月日形式（author-date）」が推奨されています[1]。", wrong=("Chicago", "author-date", "著者-年月日"))
    fact("ja-jbtx-b7-10", J, 10, "表題に年が入っている文献では，year フィールドは省略した方がよく", "The 1966 World Gnus Almanac のようにタイトル自体に年が含まれる文献なら、year フィールドは書かないほうがよく、BibTeX が出す警告メッセージは無視しても構いません[1]。", negation="The 1966 World Gnus Almanac のようにタイトル自体に年が含まれる文献でも、year フィールドは省略すべきではなく、BibTeX が出す警告メッセージを無視してはいけません[1]。")
    fact("ja-jbtx-b7-11", J, 13, "名前は，姓 (Last)，von, 名 (First) と Jr の 4 つの部分からなり", "名前は姓（Last）、von、名（First）、Jr の４つのパートから成り立っていて、各パートは（空のこともありますが）文字列（トークン）のリストです[1]。", number=("名前は姓（Last）、von、名（First）、Jr の５つのパートから成り立っていて、各パートは（空のこともありますが）文字列（トークン）のリストです[1]。", "5"))
    fact("ja-jbtx-b7-12", J, 14, "と並んだ後に，五十音順に", "この例のラベルは、アルファベット順に [HW87]、[Kow86] と並んだあと、五十音順で [磯崎 87]、[後藤 86] が続きます[1]。", number=("この例のラベルは、アルファベット順に [HW88]、[Kow86] と並んだあと、五十音順で [磯崎 87]、[後藤 86] が続きます[1]。", "88"))
    # ------------------------------------------------------------ bxjscls-manual
    fact("ja-bxjs-b7-01", X, 2, "jsclasses パッケージの文書クラス集", "BXJS クラスは、奥村晴彦氏と「日本語 TeX 開発コミュニティ」が作成した jsclasses パッケージの文書クラス集（JS クラス）を拡張したものにあたります[1]。", name=("BXJS クラスは、奥村晴彦氏と「日本語 TeX 開発コミュニティ」が作成した ltjsclasses パッケージの文書クラス集（JS クラス）を拡張したものにあたります[1]。", "ltjsclasses"))
    fact("ja-bxjs-b7-02", X, 5, "jafont を指定した場合は：", "xelatex のときに jafont=ms のように jafont を指定すると、その値が zxjafont のプリセットとして使われます[1]。", wrong=("zxjafont",))
    fact("ja-bxjs-b7-03", X, 8, "※なお、以下の記述は Pandoc 2.x 版に従う", "ここでの Pandoc の設定例は Pandoc 2.x 版を前提にしたもので、1.x 版とはオプションの体系がかなり違う点に気を付ける必要があります[1]。", number=("ここでの Pandoc の設定例は Pandoc 4.x 版を前提にしたもので、1.x 版とはオプションの体系がかなり違う点に気を付ける必要があります[1]。", "4"))
    fact("ja-bxjs-b7-04", X, 8, "*12 pandoc が指定された場合は", "pandoc オプションを指定した場合、エンジンオプションの値は autodetect-engine、和文ドライバの値は pandoc に固定されます[1]。", name=("pandoc オプションを指定した場合、エンジンオプションの値は autodetect-engine、和文ドライバの値は standard に固定されます[1]。", "standard"))
    fact("ja-bxjs-b7-05", X, 10, "platex-ng オプションの変種に platex-ng*", "platex-ng オプションには platex-ng* という変種があり、こちらは dvipdfmx を自動では追加しません[1]。", negation="platex-ng オプションには platex-ng* という変種があり、こちらは dvipdfmx を自動で追加します[1]。")
    fact("ja-bxjs-b7-06", X, 12, "disguise-js=", "disguise-js は、継承元の JS クラス（bxjsbook なら jsbook）が既に読み込まれているように振る舞うかどうかを決めるオプションで、既定では真になっています[1]。", negation="disguise-js は、継承元の JS クラス（bxjsbook なら jsbook）が既に読み込まれているように振る舞うかどうかを決めるオプションで、既定では無効になっています[1]。")
    fact("ja-bxjs-b7-07", X, 13, "class（既定）：通常通り、文書クラスが geometry パッケージを読み込む", "既定の geometry=class では文書クラスが geometry パッケージを読み込むため、ユーザーが後から geometry を読み込むことはできません[1]。", negation="既定の geometry=class では文書クラスが geometry パッケージを読み込みますが、ユーザーが後から geometry を読み込むこともできます[1]。")
    fact("ja-bxjs-b7-08", X, 23, "欧文ファミリ変更命令での和文の連動", r"JS クラスと同じく、\rmfamily に切り替えると和文も明朝になり、\sffamily や \ttfamily に切り替えると和文もゴシックになります[1]。", name=(r"JS クラスと同じく、\rmfamily に切り替えると和文も明朝になり、\sffamily や \bfseries に切り替えると和文もゴシックになります[1]。", r"\bfseries"))
    fact("ja-bxjs-b7-09", X, 18, "pdfLATEX：bxcjkjatype パッケージの既定設定となり", "pdfLaTeX の場合は bxcjkjatype パッケージのデフォルト設定になるので、ipaextype1 が提供する Type1 形式の IPAex フォントが使われます[1]。", wrong=("Type1", "ipaextype1"))
    fact("ja-bxjs-b7-10", X, 19, "minimal 和文ドライバには有効な和文ドライバパラメタは存在しない", "和文ドライバパラメタは japaram オプションにキー値ペアのリストとして渡しますが、minimal 和文ドライバでは有効なパラメタが１つもありません[1]。", wrong=("japaram", "和文ドライバパラメタ"))
    fact("ja-bxjs-b7-11", X, 22, "で実際に適用される書体変更（宣言型命令の列）を指定する", r"\strong で実際に使われる書体変更は \strongfontdeclare で指定でき、その既定値が \bfseries なので \strong は太字で出力されます[1]。", name=(r"\strong で実際に使われる書体変更は \strongfontdeclare で指定でき、その既定値が \itshape なので \strong は斜体で出力されます[1]。", r"\itshape"))
    fact("ja-bxjs-b7-12", X, 26, "BXJS クラスでは 1.2 版より二文字フォント命令を非推奨とし", r"BXJS クラスは 1.2 版から \bf などの二文字フォント命令を非推奨とし、デフォルトではそれを使うと警告が出るようにしました[1]。", wrong=("1.2 版より",))
    fact("ja-bxjs-b7-13", X, 27, "\\allowoldfontcommands：これ以降に実行される", r"文書の途中で \allowoldfontcommands を実行すると、その後に使われる二文字フォント命令は警告の対象から外れます[1]。", name=(r"文書の途中で \disallowoldfontcommands を実行すると、その後に使われる二文字フォント命令は警告の対象から外れます[1]。", r"\disallowoldfontcommands", True))
    # fmt: on
