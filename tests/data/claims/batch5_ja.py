# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Batch 5 of the claim-check set, Japanese: facts in the form of build_claims.py's `fact`
(see its docstring and README.md here); the batch number is added by build_claims.py."""

B, H, N, J, X = "bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


def add(fact) -> None:
    # fmt: off
    # ------------------------------------------------------------ jbtxdoc
    fact("ja-jbtx-b5-01", J, 1, "インプリメンタへの注意", "BibTeX には、スタイルファイルの入力ディレクトリ用の TEXINPUTS: と、データベースファイルの入力ディレクトリ用の BIBINPUTS: という２つの論理名が用意されている[1]。", name=("BibTeX には、スタイルファイルの入力ディレクトリ用の BIBINPUTS: と、データベースファイルの入力ディレクトリ用の TEXINPUTS: という２つの論理名が用意されている[1]。", "BIBINPUTS", True))
    fact("ja-jbtx-b5-02", J, 1, "めったに起こらないことではあるが", "まれではありますが、BibTeX と LaTeX をさらにもう一回走らせなければならない場合もあります[1]。", negation="BibTeX と LaTeX をさらにもう一回走らせなければならない場合は決してありません[1]。")
    fact("ja-jbtx-b5-03", J, 1, "本稿は以下の 3 節からなる", "この文書は BibTeX version 0.99a の利用者向けに書かれたもので、３つの節で構成されています[1]。", number=("この文書は BibTeX version 0.99a の利用者向けに書かれたもので、５つの節で構成されています[1]。", "5"))
    fact("ja-jbtx-b5-04", J, 2, "別々ではあるが似たような title エントリを簡単に作れる", "@STRING で WGA を “World Gnus Almanac” と定義しておけば、title = 1966 # WGA のように書くだけで、似た表題のエントリを別々に手軽に作れます[1]。", wrong=("WGA", "Gnus Almanac"))
    fact("ja-jbtx-b5-05", J, 3, "先の例でいえば editor と booktitle の 2 つを継承する", "先ほどの例では、no-gnats エントリは自分に欠けている editor と booktitle の２つのフィールドを gg-proceedings から受け継ぐ[1]。", name=("先ほどの例では、no-gnats エントリは自分に欠けている editor と series の２つのフィールドを gg-proceedings から受け継ぐ[1]。", "series"))
    fact("ja-jbtx-b5-06", J, 3, "中括弧の中の一番最初の文字はバックスラッシュでなければならない", "アクセント付き文字のための中括弧は、区切り以外の中括弧に含まれていてはならず、その中の先頭の文字はバックスラッシュである必要があります[1]。", negation="アクセント付き文字のための中括弧は、区切り以外の中括弧に含まれていてはならないが、その中の先頭の文字はバックスラッシュである必要はありません[1]。")
    fact("ja-jbtx-b5-07", J, 3, "名前と等号記号がないことを除けば@STRING と同じである", "データベースファイルに書ける @PREAMBLE コマンドは、名前と等号がないという点を除けば @STRING と同じ書き方をします[1]。", name=("データベースファイルに書ける @PREAMBLE コマンドは、名前と等号がないという点を除けば @COMMENT と同じ書き方をします[1]。", "@COMMENT"))
    fact("ja-jbtx-b5-08", J, 4, "あたかも ‘a1973’ と ‘b1971’ が年のように扱う", "BibTeX はソートするときに ‘a1973’ と ‘b1971’ を年であるかのように扱うので、望みどおり第１巻が第２巻の前に並ぶ[1]。", wrong=("a1973", "noopsort"))
    fact("ja-jbtx-b5-09", J, 5, "ラベルを作る際に著者名のいくつかを省略したことを示す記号", "alpha スタイルでラベルを作る時、著者名の一部を省いたことを表す記号は ‘*’ から ‘+’ に変わりました[1]。", name=("abbrv スタイルでラベルを作る時、著者名の一部を省いたことを表す記号は ‘*’ から ‘+’ に変わりました[1]。", "abbrv"))
    fact("ja-jbtx-b5-10", J, 5, "参照先に記述されているフィールドのほとんど全てを省略し", r"新しい相互参照機能を使っていると、標準スタイルは他の文献を参照しているエントリについて参照先に書かれたフィールドをほぼ全部省き、\cite で参照を示すようになっています[1]。", wrong=("相互参照", "crossref"))
    fact("ja-jbtx-b5-11", J, 6, "また情報処理学会論文誌 tipsj", "情報処理学会論文誌用の tipsj や電子情報通信学会論文誌用の tieice といったスタイルも作成されています[1]。", name=("情報処理学会論文誌用の jipsj や電子情報通信学会論文誌用の tieice といったスタイルも作成されています[1]。", "jipsj", True))
    fact("ja-jbtx-b5-12", J, 6, "エントリの型毎にフィールドは以下の 3 つに分類される", "論文誌の論文には巻数（volume）と番号（number）があるが本ではふつう意味がないので、フィールドはエントリ型ごとに異なり、それぞれ３種類に分類される[1]。", number=("論文誌の論文には巻数（volume）と番号（number）があるが本ではふつう意味がないので、フィールドはエントリ型ごとに異なり、それぞれ４種類に分類される[1]。", "4"))
    fact("ja-jbtx-b5-13", J, 8, "unpublished 正式には主版されていないが", "unpublished は正式には出版されていないけれど著者と表題のある著作物に使う型で、author、title、note が必須フィールドです[1]。", wrong=("unpublished",))
    fact("ja-jbtx-b5-14", J, 10, "Chicago Manual の 401 ページの中ごろ", "Chicago Manual の 401 ページの中ほどには、plain のようなスタイルだと引用文献を追加・削除するたびに本文中の番号まで直さなければならないのが欠点だ、という主張が述べられています[1]。", number=("Chicago Manual の 403 ページの中ほどには、plain のようなスタイルだと引用文献を追加・削除するたびに本文中の番号まで直さなければならないのが欠点だ、という主張が述べられています[1]。", "403"))
    fact("ja-jbtx-b5-15", J, 11, "van Leunen は学位の後に学部名を書かないことを推奨している", "学位を授与するのは大学であって学部ではないから、van Leunen は学位論文では学位の後ろに学部名を書かないことを勧めている[1]。", negation="学位を授与するのは大学であって学部ではないが、van Leunen は学位論文では学位の後ろに学部名を書くことを勧めている[1]。")
    fact("ja-jbtx-b5-16", J, 13, "この名前には 4 つの名トークンと", "“Charles Louis Xavier Joseph de la Vallée Poussin” という名前には、名のトークンが４つ、von のトークンが２つ、姓のトークンが２つあります[1]。", number=("“Charles Louis Xavier Joseph de la Vallée Poussin” という名前には、名のトークンが４つ、von のトークンが３つ、姓のトークンが２つあります[1]。", "3"))
    fact("ja-jbtx-b5-17", J, 13, "全角の句点 “，” あるいは “、” を使うこともできる", "JBibTeX では、複数の氏名を並べる際に ␣and␣ の代わりに全角の “，” や “、” で区切ることもできる[1]。", negation="JBibTeX では、複数の氏名を並べる際に ␣and␣ の代わりに全角の “，” や “、” で区切ることはできない[1]。")
    # ------------------------------------------------------------ bxjscls-manual
    fact("ja-bxjs-b5-01", X, 1, "本パッケージに含まれる文書クラス集は、奥村晴彦氏および", "BXjscls の文書クラス集は、奥村晴彦氏と “日本語 TeX 開発コミュニティ” が作った jsclasses の文書クラス集の拡張版にあたり、主要なエンジンのすべてに対応しています[1]。", name=("BXjscls の文書クラス集は、奥村晴彦氏と “日本語 TeX 開発コミュニティ” が作った jlreq の文書クラス集の拡張版にあたり、主要なエンジンのすべてに対応しています[1]。", "jlreq"))
    fact("ja-bxjs-b5-02", X, 3, "既定の設定を用いる場合は jafont=... 自体を省略する", "デフォルトのフォント設定で構わなければ、jafont=... の指定そのものを省略します[1]。", negation="デフォルトのフォント設定で構わない場合でも、jafont=... の指定そのものは省略できません[1]。")
    fact("ja-bxjs-b5-03", X, 4, "BMP 外の文字に対応したもの", "upLaTeX の論理フォントには、従来の upjisr-h と upjisg-h に代えて BMP 外の文字に対応した upjpnrm-h（明朝）と upjpngt-h（ゴシック）が採用されたが、組み方は以前と変わらない[1]。", negation="upLaTeX の論理フォントには、従来の upjisr-h と upjisg-h に代えて BMP 外の文字に対応した upjpnrm-h（明朝）と upjpngt-h（ゴシック）が採用され、組み方も以前とは変わった[1]。")
    fact("ja-bxjs-b5-04", X, 5, "bxcjkjatype パッケージにおけるフォントの既定設定は", "bxcjkjatype パッケージでのフォントの既定設定は、ipaex-type1 パッケージによる「Type1 形式の IPAex フォント」です[1]。", name=("bxcjkjatype パッケージでのフォントの既定設定は、ipaex-type1 パッケージによる「TrueType 形式の IPAex フォント」です[1]。", "TrueType"))
    fact("ja-bxjs-b5-05", X, 7, "pdfLATEX 上で hyperref で pdftitle 等の文書情報に和文文字を含めたい場合は", r"pdfLaTeX で hyperref の pdftitle などの文書情報に日本語の文字を入れたいときは、\hypersetup 命令をふだん通りに使えます[1]。", negation=r"pdfLaTeX で hyperref の pdftitle などの文書情報に日本語の文字を入れたいときは、\hypersetup 命令を使うことはできません[1]。")
    fact("ja-bxjs-b5-06", X, 7, "全角空白文字の入力を（文字ではなく）空きの挿入と解釈する", "Pandoc モードでは、全角スペースの入力は文字としてではなく、空きを挿入するものとして解釈されます[1]。", name=("Pandoc モードでは、半角スペースの入力は文字としてではなく、空きを挿入するものとして解釈されます[1]。", "半角スペース"))
    fact("ja-bxjs-b5-07", X, 7, r"geometry の読込を \setpagelayout* の呼出に振り替える", r"Pandoc の設定によってプリアンブルで geometry が読み込まれる場合は、重複読込のエラーを避けるため、その読み込みが \setpagelayout* の呼び出しに振り替えられる[1]。", wrong=("setpagelayout", "重複読込"))
    fact("ja-bxjs-b5-08", X, 9, "Pandoc が LATEX を実行しなくなり", "Pandoc の出力を -s で単体の LaTeX 文書にすれば Pandoc 自身は LaTeX を実行しなくなるので、エンジンとして (u)pLaTeX を使うことができます[1]。", negation="Pandoc の出力を -s で単体の LaTeX 文書にすれば Pandoc 自身は LaTeX を実行しなくなりますが、エンジンとして (u)pLaTeX を使うことはできません[1]。")
    fact("ja-bxjs-b5-09", X, 10, "platex-ng は pTEX-ng エンジン（別名 ApTEX、Asiatic pTEX）のためのオプションである", "platex-ng は、ApTeX（Asiatic pTeX）という別名もある pTeX-ng エンジン向けのオプションで、おおむね uplatex と同じ扱いになる[1]。", name=("platex-ng は、e-pTeX という別名もある pTeX-ng エンジン向けのオプションで、おおむね uplatex と同じ扱いになる[1]。", "e-pTeX"))
    fact("ja-bxjs-b5-10", X, 10, "人間が “普通に” 文書を作る際にはこのオプションの使用は推奨されない", "autodetect-engine は LaTeX ソースの自動生成がからむ処理を念頭に置いたオプションで、人が普通に文書を書くときに使うことは推奨されていません[1]。", negation="autodetect-engine は LaTeX ソースの自動生成がからむ処理を念頭に置いたオプションですが、人が普通に文書を書くときにも使うことが推奨されています[1]。")
    fact("ja-bxjs-b5-11", X, 10, "nodvidriver：特殊なドライバオプションの一種で", "nodvidriver は特殊なドライバオプションの一つで、BXJS クラスが持っているドライバ依存の機能をすべて抑止します[1]。", wrong=("nodvidriver",))
    fact("ja-bxjs-b5-12", X, 10, "dvi=dvipdfmx が指定された場合は、dvipdfmx がグローバルオプションに追加される", "DVI 出力のエンジンで dvi=dvipdfmx を指定すると、dvipdfmx がグローバルオプションにも加えられる[1]。", wrong=("グローバルオプション",))
    fact("ja-bxjs-b5-13", X, 11, "iso-bsize： bNpaper の名前のオプションを ISO B 判の指定と見なす", "iso-bsize を指定すると bNpaper という名前のオプションが ISO B 判として扱われますが、既定では JIS B 判の指定と見なされます[1]。", wrong=("iso-bsize", "JIS B"))
    fact("ja-bxjs-b5-14", X, 12, "数式中の和文出力をサポートするか否か", "enablejfam は数式の中での和文出力をサポートするかどうかを決めるオプションで、値には true、false、default のいずれかを指定します[1]。", wrong=("enablejfam", "disablejfam"))
    fact("ja-bxjs-b5-15", X, 13, "mag 値が n の場合、版面が n/1000 倍に拡大される", "mag オプションで版面拡大率を直接設定でき、mag 値が n なら版面は n/1000 倍に拡大されます[1]。", number=("mag オプションで版面拡大率を直接設定でき、mag 値が n なら版面は n/100 倍に拡大されます[1]。", "100"))
    fact("ja-bxjs-b5-16", X, 15, "a4var は A4 変判（210 mm × 283 mm）", "a4var は 210 mm × 283 mm の A4 変判、b5var は 182 mm × 230 mm の B5 変判を指します[1]。", number=("a4var は 210 mm × 287 mm の A4 変判、b5var は 182 mm × 230 mm の B5 変判を指します[1]。", "287"))
    fact("ja-bxjs-b5-17", X, 19, "Live 2020 において、DVI ウェアの既定のマッピングが", "TeX Live 2020 で DVI ウェアの既定のマッピングが原ノ味フォントに変わったのに合わせ、XeLaTeX と LuaLaTeX の既定も 2.0 版から原ノ味フォントになった[1]。", number=("TeX Live 2021 で DVI ウェアの既定のマッピングが原ノ味フォントに変わったのに合わせ、XeLaTeX と LuaLaTeX の既定も 2.0 版から原ノ味フォントになった[1]。", "2021"))
    fact("ja-bxjs-b5-18", X, 20, r"\texttt の出力の周囲に欧文ゴーストが挿入される", r"fix-code が真の場合には、\texttt の出力の周りに欧文ゴーストが挿入されます[1]。", name=(r"fix-code が真の場合には、\texttt の出力の周りに和文ゴーストが挿入されます[1]。", "和文ゴースト"))
    fact("ja-bxjs-b5-19", X, 21, "hscale=0.76, hmarginratio=1:1, vscale=0.83", "bxjsarticle と bxjsreport では、geometry に hscale=0.76 や vscale=0.83 といったパラメタ値が設定されます[1]。", number=("bxjsarticle と bxjsreport では、geometry に hscale=0.78 や vscale=0.83 といったパラメタ値が設定されます[1]。", "0.78"))
    fact("ja-bxjs-b5-20", X, 24, r"\mathrm で和文が「明朝」", r"欧文数式フォント命令には和文も連動し、\mathrm なら和文は明朝に、\mathsf や \mathtt ならゴシックになる[1]。", name=(r"欧文数式フォント命令には和文も連動し、\mathrm なら和文は明朝に、\mathbf や \mathtt ならゴシックになる[1]。", r"\mathbf"))
    # fmt: on
