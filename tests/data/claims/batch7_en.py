# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Batch 7 of the claim-check set, English: facts in the form of build_claims.py's `fact`
(see its docstring and README.md here); the batch number is added by build_claims.py."""

B, H, N, J, X = "bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


def add(fact) -> None:
    # fmt: off
    fact("en-bash-b7-01", B, 13, "Prefixing a double-quoted string with a dollar sign",
         "Putting a dollar sign in front of a double-quoted string, as in $\"hello, world\", makes Bash translate it according to the current locale, the lookup being done by the gettext infrastructure [1].",
         name=("Putting a dollar sign in front of a double-quoted string, as in $\"hello, world\", makes Bash translate it according to the current locale, the lookup being done by the catgets infrastructure [1].", "catgets"))
    fact("en-bash-b7-02", B, 13, "If the noexpand_translation option is enabled",
         "Once the noexpand_translation option has been turned on with shopt, translated strings come out single-quoted rather than double-quoted [1].",
         negation="Even once the noexpand_translation option has been turned on with shopt, translated strings are not single-quoted but stay double-quoted [1].")
    fact("en-bash-b7-03", B, 17, "the standard input for asynchronous commands, in the",
         "A command ended with '&' runs asynchronously in a subshell without the shell waiting for it, and when job control isn't active and there are no explicit redirections its standard input comes from /dev/null [1].",
         wrong=("/dev/null",))
    fact("en-bash-b7-04", B, 17, "command2 is executed if, and only if, command1 returns an exit status of zero",
         "In an and list (command1 && command2) the second command runs only if the first succeeds with a zero exit status, whereas in an or list (command1 || command2) it runs only if the first returns non-zero [1].",
         wrong=("command1 && command2", "command1 || command2", "and list", "or list"))
    fact("en-bash-b7-05", B, 21, "If the regular expression is syntactically incorrect, the conditional",
         "When a string is tested against a regular expression, the conditional expression returns two if the regex is syntactically wrong, zero on a match and one otherwise [1].",
         number=("When a string is tested against a regular expression, the conditional expression returns three if the regex is syntactically wrong, zero on a match and one otherwise [1].", "three"))
    fact("en-bash-b7-06", B, 21, "The pattern will match if it matches any part of the string",
         "A regular expression succeeds as soon as it matches some part of the string, so to force a match of the whole string you must anchor it with '^' and '$' [1].",
         negation="A regular expression only succeeds when it matches the whole string, so there is no need to anchor it with '^' and '$' [1].")
    fact("en-bash-b7-07", B, 25, "The exit status of a function definition is zero unless",
         "Defining a function returns a status of zero unless a syntax error occurs or a readonly function with that name is already there [1].",
         name=("Defining a function returns a status of zero unless a syntax error occurs or an exported function with that name is already there [1].", "exported"))
    fact("en-bash-b7-08", B, 29, "Positional parameter N may be referenced as ${N}",
         "You can refer to positional parameter N as ${N}, or as $N when N is a single digit, but a positional parameter made of more than one digit must be enclosed in braces when it is expanded [1].",
         negation="You can refer to positional parameter N as ${N}, or as $N when N is a single digit, and a positional parameter made of more than one digit need not be enclosed in braces when it is expanded [1].")
    fact("en-bash-b7-09", B, 29, "These parameters may only be referenced",
         "Bash's special parameters can be referenced but never assigned to, and $* expands to the positional parameters beginning with the first one [1].",
         number=("Bash's special parameters can be referenced but never assigned to, and $* expands to the positional parameters beginning with the zeroth one [1].", "zeroth"))
    fact("en-bash-b7-10", B, 31, "The default increment is 1 or -1",
         "If no increment is supplied in a sequence expression, the step is 1 or -1 as appropriate, and x and y have to be of the same type, either both integers or both letters [1].",
         number=("If no increment is supplied in a sequence expression, the step is 2 or -2 as appropriate, and x and y have to be of the same type, either both integers or both letters [1].", "2"))
    fact("en-bash-b7-11", B, 31, "Supplied integers may be prefixed with ‘0’",
         "In a brace sequence expression such as {x..y[..incr]}, the integers may carry a leading '0' so that all the generated terms have the same width [1].",
         wrong=("same width", "prefixed with", "zero-padding", "same number of digits"))
    fact("en-bash-b7-12", B, 43, "The word character class matches letters, digits",
         "Inside '[' and ']', the word character class matches letters and digits as well as the underscore [1].",
         name=("Inside '[' and ']', the word character class matches letters and digits as well as the hyphen [1].", "hyphen"))
    fact("en-bash-b7-13", B, 47, "3.6.7 Here Strings",
         "In a here string ([n]<<< word), the word is expanded but is not subjected to filename expansion or word splitting, and the result reaches the command's standard input as a single string with a newline added [1].",
         negation="In a here string ([n]<<< word), the word is expanded and is also subjected to filename expansion and word splitting, and the result reaches the command's standard input as a single string with a newline added [1].")
    fact("en-bash-b7-14", B, 47, "is used similarly to duplicate output file descriptors",
         "When [n]>&word is used to duplicate an output file descriptor and n is left out, standard output, that is file descriptor one, is used [1].",
         number=("When [n]>&word is used to duplicate an output file descriptor and n is left out, standard output, that is file descriptor two, is used [1].", "two"))
    fact("en-bash-b7-15", B, 53, "maximum of 32 characters",
         "Some older Unix versions cap the interpreter name plus a single argument at 32 characters, so it isn't portable to count on more than one argument working [1].",
         number=("Some older Unix versions cap the interpreter name plus a single argument at 64 characters, so it isn't portable to count on more than one argument working [1].", "64"))
    fact("en-bash-b7-16", B, 53, "#!/usr/bin/env bash will find the first occurrence",
         "A common idiom is to begin a script with #!/usr/bin/env bash, which picks up the first bash in $PATH even when Bash has been installed somewhere other than /bin [1].",
         wrong=("/usr/bin/env", "#! /bin/bash"))
    fact("en-bash-b7-17", B, 61, "Signals ignored upon entry to the shell cannot be trapped",
         "A signal that was already ignored when the shell started can be neither trapped nor reset, while trapped signals that aren't ignored go back to their original values in a subshell [1].",
         negation="A signal that was already ignored when the shell started can still be trapped or reset, while trapped signals that aren't ignored go back to their original values in a subshell [1].")
    fact("en-bash-b7-18", B, 61, "each number of the umask is subtracted from 7",
         "Since each digit of an octal umask is subtracted from seven, a umask of 022 gives permissions of 755 [1].",
         number=("Since each digit of an octal umask is subtracted from seven, a umask of 022 gives permissions of 644 [1].", "644"))
    fact("en-bash-b7-19", B, 68, "If -C is specified without -c, the default quantum is 5000",
         "If mapfile is given -C but not -c, the callback is evaluated every 5000 lines by default [1].",
         number=("If mapfile is given -C but not -c, the callback is evaluated every 1000 lines by default [1].", "1000"),
         wrong=("5000", "quantum"))
    fact("en-bash-b7-20", B, 72, "A hard limit cannot be increased by a non-root user",
         "Once a hard limit has been set, a user other than root can't raise it, whereas a soft limit may be increased up to the hard limit [1].",
         wrong=("hard limit",))
    fact("en-bash-b7-21", B, 79, "dotglob If set, Bash includes filenames beginning with",
         "With dotglob set, filenames that begin with a '.' show up in the results of filename expansion, though '.' and '..' always have to be matched explicitly [1].",
         name=("With nullglob set, filenames that begin with a '.' show up in the results of filename expansion, though '.' and '..' always have to be matched explicitly [1].", "nullglob"))
    fact("en-bash-b7-22", B, 102, "In the absence of any traps, Bash ignores SIGTERM",
         "When no traps are set, Bash ignores SIGTERM, whereas SIGINT is caught and handled and can interrupt some shell builtins [1].",
         name=("When no traps are set, Bash ignores SIGINT, whereas SIGTERM is caught and handled and can interrupt some shell builtins [1].", "SIGINT", True))
    fact("en-bash-b7-23", B, 106, "a word that is identical to an\nalias being expanded is not expanded a second time",
         "A word identical to an alias that is already being expanded is not expanded again, which is why ls can be aliased to \"ls -F\" without Bash expanding the replacement recursively [1].",
         negation="A word identical to an alias that is already being expanded is expanded again, so aliasing ls to \"ls -F\" makes Bash expand the replacement recursively [1].")
    fact("en-bash-b7-24", B, 110, "Bash examines the value of the array variable PROMPT_COMMAND",
         "Right before it prints each primary prompt, Bash runs every set, non-null element of the PROMPT_COMMAND array in numeric order, just as if it had been typed on the command line [1].",
         wrong=("PROMPT_COMMAND",))
    fact("en-bash-b7-25", B, 130, "enable-bracketed-paste",
         "Readline's enable-bracketed-paste setting, which is on by default, makes each paste go into the editing buffer as a single string, so editing commands bound to key sequences in the pasted text are not executed [1].",
         negation="Readline's enable-bracketed-paste setting, which is not on by default, makes each paste go into the editing buffer as a single string, so editing commands bound to key sequences in the pasted text are not executed [1].")
    fact("en-bash-b7-26", B, 130, "enable-keypad",
         "The enable-keypad variable, off by default, makes Readline try to enable the application keypad, which some systems need for the arrow keys to work [1].",
         name=("The enable-meta-key variable, off by default, makes Readline try to enable the application keypad, which some systems need for the arrow keys to work [1].", "enable-meta-key", True))
    fact("en-bash-b7-27", B, 147, "abort (C-g)",
         "In Readline, abort, bound to C-g, cancels the current editing command and rings the terminal's bell, depending on the bell-style setting [1].",
         name=("In Readline, abort, bound to C-c, cancels the current editing command and rings the terminal's bell, depending on the bell-style setting [1].", "C-c"))
    fact("en-bash-b7-28", B, 162, "Quick Substitution. Repeat the last command, replacing string1",
         "The quick substitution ^string1^string2^ reruns the previous command with string1 replaced by string2, and it is equivalent to !!:s^string1^string2^ [1].",
         wrong=("^string1^string2^", "quick substitution"))
    fact("en-bash-b7-29", B, 162, "first word being denoted by 0 (zero)",
         "History word designators number words from the start of the line, with the first word counted as zero, and a ':' separates the event specification from the word designator [1].",
         number=("History word designators number words from the start of the line, with the first word counted as one, and a ':' separates the event specification from the word designator [1].", "one"))
    fact("en-hyperref-b7-01", H, 5, "The href and name commands must be paired with an end command",
         "The href and name commands have to be matched by a later end command, and the TeX material between the two forms an anchor in the document [1].",
         negation="The href and name commands do not have to be matched by a later end command, and the TeX material after them forms an anchor in the document [1].")
    fact("en-hyperref-b7-02", H, 34, "Since 6.77b:",
         "Since version 6.77b, pdfnewwindow=false puts /NewWindow false in the PDF, whereas earlier versions left the entry out altogether [1].",
         number=("Since version 6.79b, pdfnewwindow=false puts /NewWindow false in the PDF, whereas earlier versions left the entry out altogether [1].", "6.79"))
    fact("en-hyperref-b7-03", H, 40, "7.28 \\phantomsection",
         r"\phantomsection sets an anchor at the current location and is frequently paired with \addcontentsline for section-like parts such as the index, the bibliography or a preface [1].",
         wrong=("phantomsection",))
    fact("en-hyperref-b7-04", H, 40, "As unicode is now true for all engines",
         "Because the unicode option is now true for every engine, puenc.def, which the option loads for the bookmarks, is loaded with pdflatex as well [1].",
         negation="Although the unicode option is now true for every engine, puenc.def, which the option loads for the bookmarks, is still not loaded with pdflatex [1].")
    fact("en-hyperref-b7-05", H, 43, "Note that all colors must be expressed as RGB triples",
         "For the optional parameters of form fields, all colours have to be given as RGB triples with values from 0 to 1, such as color=0 0 0.5 [1].",
         name=("For the optional parameters of form fields, all colours have to be given as CMYK triples with values from 0 to 1, such as color=0 0 0.5 [1].", "CMYK"))
    fact("en-hyperref-b7-06", H, 45, "the recommended package is Patrick Daly’s natbib package",
         "Peter William's harvard package is supported, but hyperref recommends Patrick Daly's natbib, which has dedicated hyperref hooks for reliable interaction [1].",
         name=("Peter William's harvard package is supported, but hyperref recommends Patrick Daly's chapterbib, which has dedicated hyperref hooks for reliable interaction [1].", "chapterbib"))
    fact("en-hyperref-b7-07", H, 45, "These are xr and minitoc",
         r"hyperref is distributed with variants of xr and minitoc, which provide cross-document links through LaTeX's usual \label/\ref mechanism and per-chapter tables of contents respectively [1].",
         wrong=("minitoc",))
    fact("en-hyperref-b7-08", H, 46, "Package longtable must be put before hyperref and arydshln",
         "longtable has to be loaded ahead of both hyperref and arydshln, and because loading hyperref after arydshln produces an error, the order is longtable, hyperref, arydshln [1].",
         negation="longtable does not have to be loaded ahead of hyperref and arydshln, and because loading hyperref after arydshln produces an error, the order is hyperref, arydshln, longtable [1].")
    fact("en-hyperref-b7-09", H, 46, "You need at least version 1.5, maintained by",
         "With babel's magyar.ldf, the old version 1.4j of 2005/03/30 does not work with hyperref; you need version 1.5 or newer [1].",
         number=("With babel's magyar.ldf, the old version 1.4j of 2005/03/30 does not work with hyperref; you need version 2.0 or newer [1].", "2.0"))
    fact("en-hyperref-b7-10", H, 47, "cite.sty cannot currently be used with hyperref",
         r"According to Mike Shell, cite.sty cannot be used with hyperref at present, although faking the natbib command \NAT@parse lets cite.sty work normally, just without hyperlinked citations [1].",
         name=(r"According to Heiko Oberdiek, cite.sty cannot be used with hyperref at present, although faking the natbib command \NAT@parse lets cite.sty work normally, just without hyperlinked citations [1].", "Oberdiek"))
    fact("en-hyperref-b7-11", H, 49, "You can load\n‘mathenv’ after ‘hyperref’",
         r"Since mathenv and hyperref both tamper with the eqnarray environment, mathenv can be loaded after hyperref to avoid an error message, although \label will still not work properly inside eqnarray [1].",
         name=(r"Since mathenv and hyperref both tamper with the align environment, mathenv can be loaded after hyperref to avoid an error message, although \label will still not work properly inside align [1].", "align"))
    fact("en-hyperref-b7-12", H, 53, "Only few drivers support automatically wrapped/broken links",
         "Automatically wrapped links are supported by only a few drivers, such as pdftex, dvipdfm and hypertex; others, like dvips and dvipsone, lack this feature [1].",
         wrong=("wrapped/broken", "wrapped links", "breaklinks", "link wrapping"))
    # fmt: on
