# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Batch 5 of the claim-check set, English: facts in the form of build_claims.py's `fact`
(see its docstring and README.md here); the batch number is added by build_claims.py."""

B, H, N, J, X = "bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


def add(fact) -> None:
    # fmt: off
    fact("en-bash-b5-01", B, 12, "A single quote may not occur between single quotes",
         "Enclosing characters in single quotes keeps each of them literal, and a single quote cannot appear between single quotes, not even when it is preceded by a backslash [1].",
         negation="Enclosing characters in single quotes keeps each of them literal, and a single quote can appear between single quotes when it is preceded by a backslash [1].")
    fact("en-bash-b5-02", B, 19, "Using ‘;&’ in place of ‘;;’ causes execution to continue",
         "In a case statement, ending a clause with ;& instead of ;; makes execution carry on with the next clause's command-list, while ;;& makes the shell test the next clause's patterns and run its commands on a match [1].",
         wrong=(";&",))
    fact("en-bash-b5-03", B, 27, "The FUNCNEST variable may be used to limit the depth",
         "Shell functions may call themselves recursively; the FUNCNEST variable can limit the depth of the call stack, and by default no limit is placed on recursive calls [1].",
         name=("Shell functions may call themselves recursively; the FUNCNAME variable can limit the depth of the call stack, and by default no limit is placed on recursive calls [1].", "FUNCNAME"))
    fact("en-bash-b5-04", B, 30, "seven kinds of expansion performed",
         "Once the command line has been split into tokens, Bash performs seven kinds of expansion on it, beginning with brace expansion and finishing with filename expansion [1].",
         number=("Once the command line has been split into tokens, Bash performs eight kinds of expansion on it, beginning with brace expansion and finishing with filename expansion [1].", "eight"))
    fact("en-bash-b5-05", B, 38, "If the nocasematch shell option",
         "For pattern substitution, enabling the nocasematch shell option makes the match ignore the case of alphabetic characters, and when parameter is @ or * the substitution is applied to each positional parameter in turn [1].",
         wrong=("nocasematch",))
    fact("en-bash-b5-06", B, 42, "setting GLOBIGNORE to a non-null value has the effect of enabling the dotglob",
         "Setting GLOBIGNORE to a non-null value also enables the dotglob shell option, so every other filename beginning with a '.' will match; to ignore such files as before, add '.*' to the GLOBIGNORE patterns [1].",
         name=("Setting GLOBIGNORE to a non-null value also enables the extglob shell option, so every other filename beginning with a '.' will match; to ignore such files as before, add '.*' to the GLOBIGNORE patterns [1].", "extglob"))
    fact("en-bash-b5-07", B, 48, "Bash uses a hash table to remember the full pathnames",
         "For a command name without slashes that is neither a function nor a builtin, Bash searches each directory in $PATH, remembering full pathnames in a hash table so that a full search is only done when the command is not already hashed [1].",
         wrong=("hash table", "full pathnames"))
    fact("en-bash-b5-08", B, 54, "builtins do not accept options and do not treat ‘--’ specially",
         "The :, true, false and test/[ builtins take no options and give '--' no special meaning, whereas exit, logout, return, break, continue, let and shift accept arguments beginning with '-' without needing '--' [1].",
         negation="The :, true, false and test/[ builtins accept options and treat '--' specially, whereas exit, logout, return, break, continue, let and shift accept arguments beginning with '-' without needing '--' [1].")
    fact("en-bash-b5-09", B, 63, "The -p option means to use a default value for PATH",
         "With command -p, Bash looks the command up using a default PATH that is guaranteed to find all the standard utilities, and the return status is 127 if the command cannot be found or an error occurs [1].",
         number=("With command -p, Bash looks the command up using a default PATH that is guaranteed to find all the standard utilities, and the return status is 126 if the command cannot be found or an error occurs [1].", "126"))
    fact("en-bash-b5-10", B, 70, "If timeout is 0, read returns immediately",
         "If read -t times out, read keeps any partial input in the named variable and exits with a status greater than 128; with a timeout of 0 it returns immediately without reading any data [1].",
         number=("If read -t times out, read keeps any partial input in the named variable and exits with a status greater than 255; with a timeout of 0 it returns immediately without reading any data [1].", "255"))
    fact("en-bash-b5-11", B, 77, "Unless otherwise noted, the shopt options are disabled (off) by default",
         "Unless noted otherwise, shopt options are off by default, and when several optnames are given with shopt -q the return status is zero only if all of them are enabled [1].",
         name=("Unless noted otherwise, shopt options are off by default, and when several optnames are given with shopt -s the return status is zero only if all of them are enabled [1].", "-s", True))
    fact("en-bash-b5-12", B, 108, "If name is an indexed array, unset removes all of the elements",
         "With a '*' or '@' key, unset removes just that element from an associative array, but from an indexed array it removes all of the elements without removing the array itself [1].",
         negation="With a '*' or '@' key, unset removes just that element from an associative array, but from an indexed array it removes all of the elements and the array itself [1].")
    fact("en-bash-b5-13", B, 115, "The ulimit builtin uses a block size of 512 bytes",
         "The ulimit builtin counts the -c and -f limits in blocks of 512 bytes [1].",
         number=("The ulimit builtin counts the -c and -f limits in blocks of 1024 bytes [1].", "1024"))
    fact("en-bash-b5-14", B, 125, "M-y Rotate the kill-ring, and yank the new top",
         "In Readline, C-y yanks the most recently killed text back in at the cursor, and M-y then rotates the kill-ring and yanks the new top, which only works right after C-y or M-y [1].",
         wrong=("yank", "kill-ring", "kill ring"))
    fact("en-bash-b5-15", B, 153, "nospace Tell Readline not to append a space",
         "Passing -o nospace to complete tells Readline not to append the usual space to words completed at the end of the line [1].",
         name=("Passing -o nosort to complete tells Readline not to append the usual space to words completed at the end of the line [1].", "nosort", True))
    fact("en-hyperref-b5-01", H, 8, "The first four commands will be defined also in LATEX directly as no-op",
         r"Of the link-target commands, the first four (starting with \MakeLinkTarget) are also defined directly in LaTeX as no-ops, so they can be used even when hyperref is not loaded [1].",
         number=(r"Of the link-target commands, the first five (starting with \MakeLinkTarget) are also defined directly in LaTeX as no-ops, so they can be used even when hyperref is not loaded [1].", "five"),
         negation=r"Of the link-target commands, the first four (starting with \MakeLinkTarget) are not defined in LaTeX itself, so they cannot be used when hyperref is not loaded [1].")
    fact("en-hyperref-b5-02", H, 12, "This can be resolved by redefining",
         r"If the PDF will be merged with another file, destination names like chapter.1 or page.1 may clash; redefining \HyperDestNameFilter, e.g. to put \jobname- in front of every name, avoids this [1].",
         wrong=("HyperDestNameFilter", "clash"))
    fact("en-hyperref-b5-03", H, 19, "Option pdfinfo provides an alternative interface",
         "Besides pdftitle, pdfsubject and friends, the pdfinfo option offers another way to fill in the document information: it takes a key–value list using the dictionary's own key names, and unknown keys are added to the information dictionary [1].",
         negation="Besides pdftitle, pdfsubject and friends, the pdfinfo option offers another way to fill in the document information: it takes a key–value list using the dictionary's own key names, and unknown keys are not added to the information dictionary [1].")
    fact("en-hyperref-b5-04", H, 22, r"\href[options]{URL}{text}",
         r"\href turns its text into a hyperlink to the URL, which must be a full URL, and the special characters # and % in it do not have to be escaped unless \href sits in the argument of another command [1].",
         negation=r"\href turns its text into a hyperlink to the URL, which must be a full URL, and the special characters # and % in it have to be escaped [1].")
    fact("en-hyperref-b5-05", H, 23, r"Write URL in the same way as \url, without creating a hyperlink",
         r"\nolinkurl prints a URL exactly as \url would, but without making it a hyperlink [1].",
         wrong=("nolinkurl",))
    fact("en-hyperref-b5-06", H, 24, r"This is a replacement for the usual \ref command",
         r"\autoref can be used in place of \ref: it puts a contextual label such as ‘section’ in front of the number, which gives readers a bigger target to click [1].",
         name=(r"\autoref can be used in place of \pageref: it puts a contextual label such as ‘section’ in front of the number, which gives readers a bigger target to click [1].", r"\pageref"))
    fact("en-hyperref-b5-07", H, 25, "Then package aliascnt provides a method",
         "When a lemma shares its counter with theorems, the aliascnt package can generate a simulated second counter so that theorems and lemmas can be told apart [1].",
         name=("When a lemma shares its counter with theorems, the chngcntr package can generate a simulated second counter so that theorems and lemmas can be told apart [1].", "chngcntr"))
    fact("en-hyperref-b5-08", H, 26, "stops the hypertext functions doing",
         "The NoHyper environment stops hyperref's hypertext functions from doing anything inside it; the Elsevier classes, for instance, use it to keep hyperref from wreaking havoc in the front matter [1].",
         name=("The NoHyper environment stops hyperref's hypertext functions from doing anything inside it; the Springer classes, for instance, use it to keep hyperref from wreaking havoc in the front matter [1].", "Springer"))
    fact("en-hyperref-b5-09", H, 27, "creates a bookmark with the specified text and at the given level",
         r"\pdfbookmark[level]{text}{name} creates a bookmark with the given text at the given level, which defaults to 0, and because the name is used for the internal anchor it must be unique [1].",
         number=(r"\pdfbookmark[level]{text}{name} creates a bookmark with the given text at the given level, which defaults to 2, and because the name is used for the internal anchor it must be unique [1].", "2"))
    fact("en-hyperref-b5-10", H, 28, "takes a TEX dimen specification and converts it to bp",
         r"\hypercalcbp converts a TeX dimen specification to bp and returns the number without the unit, which is useful for the pdfview, pdfstartview and pdfremotestartview options [1].",
         wrong=("hypercalcbp",))
    fact("en-natbib-b5-01", N, 9, "the notes are fully ignored",
         r"You can add notes to \citeyear and \citeauthor without getting an error message, but the results are odd: in numerical mode the notes are ignored entirely, and in author–year mode only the post-note is used [1].",
         negation=r"Adding notes to \citeyear and \citeauthor produces an error message, and in numerical mode the notes are ignored entirely while in author–year mode only the post-note is used [1].")
    fact("en-natbib-b5-02", N, 10, "A warning is issued if the alias is used before it is defined",
         "natbib warns if a citation alias is used before it has been defined or is redefined, but not when an alias is defined for a key that doesn't exist; that warning only comes once the alias is used [1].",
         negation="natbib warns if a citation alias is used before it has been defined or is redefined, and also as soon as an alias is defined for a key that doesn't exist [1].")
    fact("en-natbib-b5-03", N, 11, "This can be avoided by loading the url package by Donald Arseneau",
         "Long DOIs and URLs can be kept from sticking out into the margin by loading Donald Arseneau's url package, which natbib detects automatically; URLs are then printed in typewriter font and DOIs in roman [1].",
         name=("Long DOIs and URLs can be kept from sticking out into the margin by loading Donald Arseneau's url package, which natbib detects automatically; URLs are then printed in italic font and DOIs in roman [1].", "italic"))
    fact("en-natbib-b5-04", N, 17, "There is a special option to the hyperref package: breaklinks",
         "hyperref has a special breaklinks option that lets link text be split onto the next line, avoiding many overfull line messages, whereas by default link text is kept on one line [1].",
         wrong=("breaklinks",))
    fact("en-natbib-b5-05", N, 18, "As of version 8.0, the citation style",
         r"Since version 8.0 the citation style, including the author–year or numerical mode, may differ from chapter to chapter, as \setcitestyle, \bibpunct and \citestyle can be issued anywhere in the document [1].",
         number=(r"Since version 7.0 the citation style, including the author–year or numerical mode, may differ from chapter to chapter, as \setcitestyle, \bibpunct and \citestyle can be issued anywhere in the document [1].", "7.0"))
    fact("en-natbib-b5-06", N, 19, "mcite package cannot be used together with natbib",
         "Thorsten Ohl's mcite package cannot be used together with natbib; instead you load natbib with the merge option, with which a leading * on a citation key merges that reference with the previous one into a single bibliography entry [1].",
         name=("Thorsten Ohl's mcite package cannot be used together with natbib; instead you load natbib with the compress option, with which a leading * on a citation key merges that reference with the previous one into a single bibliography entry [1].", "compress"))
    fact("en-natbib-b5-07", N, 21, "It is possible to add a local configuration file natbib.cfg",
         r"A local configuration file called natbib.cfg, if present, is read in at the end of the package, mainly so that users can add their own \bibstyle@bst definitions [1].",
         wrong=("natbib.cfg",))
    fact("en-natbib-b5-08", N, 22, "sort&compress as sort but in addition",
         "With the sort&compress option natbib sorts multiple citations like sort does and also compresses numerical ones where possible (for example 3–6, 15), while compress compresses without sorting [1].",
         number=("With the sort&compress option natbib sorts multiple citations like sort does and also compresses numerical ones where possible (for example 3–7, 15), while compress compresses without sorting [1].", "7"))
    fact("en-natbib-b5-09", N, 25, "The accompanying interface package file is called harvard.sty",
         r"For the Harvard family the interface package is harvard.sty, written by Peter Williams and Thorsten Schnier, which defines \harvarditem along with \cite for parenthetical and \citeasnoun for textual citations [1].",
         wrong=("harvard",))
    fact("en-natbib-b5-10", N, 26, "It requires the package file astron.sty",
         r"The astronomy-group styles, namely apa, astron, bbs, cbe, humanbio, humannat and jtb, require astron.sty or another style file that defines \astroncite suitably [1].",
         name=(r"The astronomy-group styles, namely apa, astron, bbs, cbe, humanbio, humannat and agsm, require astron.sty or another style file that defines \astroncite suitably [1].", "agsm"))
    # fmt: on
