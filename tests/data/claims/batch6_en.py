# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Batch 6 of the claim-check set, English: facts in the form of build_claims.py's `fact`
(see its docstring and README.md here); the batch number is added by build_claims.py."""

B, H, N, J, X = "bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


def add(fact) -> None:
    # fmt: off
    fact("en-bash-b6-01", B, 20, "If EOF is read, the select command completes and returns 1",
         "In a select loop, reading EOF ends the command with a return status of 1, whereas an empty input line simply makes it show the list of words and the prompt again [1].",
         number=("In a select loop, reading EOF ends the command with a return status of 2, whereas an empty input line simply makes it show the list of words and the prompt again [1].", "2"))
    fact("en-bash-b6-02", B, 20, "do not undergo word splitting and filename expansion",
         "Words between [[ and ]] are not subject to word splitting or filename expansion, although the shell still applies tilde expansion, parameter expansion, arithmetic expansion, command substitution and quote removal to them [1].",
         negation="Words between [[ and ]] are subject to word splitting and filename expansion, and the shell also applies tilde expansion, parameter expansion, arithmetic expansion, command substitution and quote removal to them [1].")
    fact("en-bash-b6-03", B, 40, "can be replaced by the equivalent but faster $(< file)",
         "The command substitution $(cat file) has a quicker equivalent, $(< file), and command substitutions can be nested, though in the backquoted form the inner backquotes have to be escaped with backslashes [1].",
         negation="The command substitution $(cat file) has a quicker equivalent, $(< file), and command substitutions can be nested, and even in the backquoted form the inner backquotes need not be escaped [1].",
         wrong=("$(< file)", "faster", "inner backquotes"))
    fact("en-bash-b6-04", B, 40, "If the expression is invalid, Bash prints a message indicating failure",
         "Should the expression inside $(( )) turn out to be invalid, Bash writes a failure message to standard error and no substitution takes place [1].",
         name=("Should the expression inside $(( )) turn out to be invalid, Bash writes a failure message to standard output and no substitution takes place [1].", "standard output"))
    fact("en-bash-b6-05", B, 46, "Of the two forms, the first is preferred",
         "To send both standard output and standard error to the same file, &>word is the preferred form, and it means exactly the same as >word 2>&1 [1].",
         name=("To send both standard output and standard error to the same file, >&word is the preferred form, and it means exactly the same as >word 2>&1 [1].", ">&word", True))
    fact("en-bash-b6-06", B, 46, "If the redirection operator is ‘<<-’, then all leading tab characters",
         "With the <<- operator, Bash removes all leading tabs from the here-document's input lines and from the delimiter line, so that here-documents in shell scripts can be indented naturally [1].",
         name=("With the <<- operator, Bash removes all leading spaces from the here-document's input lines and from the delimiter line, so that here-documents in shell scripts can be indented naturally [1].", "spaces"))
    fact("en-bash-b6-07", B, 56, "If the -l option is supplied, the shell places a dash",
         "Running exec -l puts a dash in front of the zeroth argument handed to the command, which is what login does, while exec -c executes the command with an empty environment [1].",
         wrong=("dash", "empty environment", "zeroth argument"))
    fact("en-bash-b6-08", B, 56, "OPTIND is initialized to 1 each time the shell",
         "getopts stores the index of the next argument to be processed in OPTIND, which is set to 1 every time the shell or a shell script is invoked [1].",
         number=("getopts stores the index of the next argument to be processed in OPTIND, which is set to 0 every time the shell or a shell script is invoked [1].", "0"))
    fact("en-bash-b6-09", B, 66, "type ‘enable -n test’",
         "If you would rather run the test binary found via $PATH than the shell builtin, disable the builtin with enable -n test [1].",
         name=("If you would rather run the test binary found via $PATH than the shell builtin, disable the builtin with enable -d test [1].", "-d"))
    fact("en-bash-b6-10", B, 74, "-n Read commands but do not execute them",
         "set -n makes the shell read commands without executing them, which is handy for checking a script for syntax errors, but interactive shells ignore it [1].",
         negation="set -n makes the shell read commands without executing them, which is handy for checking a script for syntax errors, and interactive shells do not ignore it [1].")
    fact("en-bash-b6-11", B, 83, "the special builtins differ from other builtin commands in three respects",
         "In POSIX mode the special builtins behave differently from other builtins in three ways: they are found before shell functions, an error status from one makes a non-interactive shell exit, and assignments placed before them remain in effect afterwards [1].",
         number=("In POSIX mode the special builtins behave differently from other builtins in four ways: they are found before shell functions, an error status from one makes a non-interactive shell exit, and assignments placed before them remain in effect afterwards [1].", "four"))
    fact("en-bash-b6-12", B, 89, "as a floating point value with micro-second granularity",
         "Referencing EPOCHREALTIME gives the number of seconds since the Unix Epoch as a floating-point value with microsecond granularity, and any assignment to it is ignored [1].",
         name=("Referencing EPOCHREALTIME gives the number of seconds since the Unix Epoch as a floating-point value with millisecond granularity, and any assignment to it is ignored [1].", "millisecond"))
    fact("en-bash-b6-13", B, 104, "Evaluation is done in fixed-width integers with no check for overflow",
         "Bash evaluates arithmetic in fixed-width integers without checking for overflow, although division by zero is trapped and flagged as an error [1].",
         negation="Bash evaluates arithmetic in fixed-width integers and checks for overflow, and division by zero is likewise trapped and flagged as an error [1].")
    fact("en-bash-b6-14", B, 112, "Modern systems provide more secure ways to implement a restricted environment",
         "The manual points out that restricted shell mode is only one component of a useful restricted environment, and that modern systems offer more secure approaches such as jails, zones or containers [1].",
         wrong=("jails", "containers", "restricted environment"))
    fact("en-bash-b6-15", B, 165, "make sure you are using Autoconf version 2.69 or newer",
         "If you regenerate configure from configure.ac, you need Autoconf 2.69 or later, and typing 'make distclean' additionally removes the files that configure created [1].",
         number=("If you regenerate configure from configure.ac, you need Autoconf 2.71 or later, and typing 'make distclean' additionally removes the files that configure created [1].", "2.71"))
    fact("en-bash-b6-16", B, 140, "accept-line (Newline or Return)",
         "The accept-line command, bound to Newline or Return, accepts the line wherever the cursor is and, when the line isn't empty, saves it to the history list as the HISTCONTROL and HISTIGNORE variables dictate [1].",
         wrong=("accept-line", "HISTCONTROL"))
    fact("en-hyperref-b6-01", H, 10, r"File-specific options in the \usepackage commands, which override",
         r"Options given to hyperref in a document's own \usepackage command take precedence over those set in hyperref.cfg [1].",
         negation=r"Options given to hyperref in a document's own \usepackage command do not take precedence over those set in hyperref.cfg [1].")
    fact("en-hyperref-b6-02", H, 13, "plainpages boolean false Forces page anchors",
         "The plainpages option, false by default, makes hyperref name page anchors after the Arabic form of the page number instead of its formatted form [1].",
         name=("The pdfpagelabels option, false by default, makes hyperref name page anchors after the Arabic form of the page number instead of its formatted form [1].", "pdfpagelabels"))
    fact("en-hyperref-b6-03", H, 14, "nativepdf An alias for dvips",
         "The nativepdf and pdfmark driver options are both just aliases for dvips, and ps2pdf is identical to dvips except that it redefines a few macros for compatibility with Ghostscript's PDF writer [1].",
         name=("The nativepdf and dvipdfmx driver options are both just aliases for dvips, and ps2pdf is identical to dvips except that it redefines a few macros for compatibility with Ghostscript's PDF writer [1].", "dvipdfmx"))
    fact("en-hyperref-b6-04", H, 14, "If you use dviwindo, you may need to redefine the macro",
         r"If you use dviwindo, you may have to redefine \wwwbrowser, which defaults to C:\netscape\netscape, to tell it which program to launch, for example in hyperref.cfg [1].",
         wrong=("wwwbrowser", "dviwindo"))
    fact("en-hyperref-b6-05", H, 21, "pdflang relax PDF language identifier (RFC 3066)",
         "The pdflang key holds the PDF language identifier as defined by RFC 3066, and its default value is relax [1].",
         number=("The pdflang key holds the PDF language identifier as defined by RFC 5646, and its default value is relax [1].", "5646"))
    fact("en-hyperref-b6-06", H, 31, r"Macro \unichar takes a TeX number as argument",
         r'Because \unichar takes a TeX number, U+263A (WHITE SMILING FACE) can be written either in hexadecimal as \unichar{"263A} or in decimal as \unichar{9786} [1].',
         number=(r'Because \unichar takes a TeX number, U+263A (WHITE SMILING FACE) can be written either in hexadecimal as \unichar{"263A} or in decimal as \unichar{9787} [1].', "9787"))
    fact("en-hyperref-b6-07", H, 32, "uses Optional Content Groups, a feature introduced in PDF 1.5",
         "The experimental ocgcolorlinks option produces links that are coloured on screen but printed without colour, relying on Optional Content Groups, which were introduced in PDF 1.5 [1].",
         number=("The experimental ocgcolorlinks option produces links that are coloured on screen but printed without colour, relying on Optional Content Groups, which were introduced in PDF 1.4 [1].", "1.4"))
    fact("en-hyperref-b6-08", H, 38, "Thus it loads hpdftex, if pdfTeX is detected running in PDF mode",
         "When no driver is given, hyperref picks hpdftex if it detects pdfTeX running in PDF mode, but because drivers such as dvips run after the TeX compiler it cannot detect them and loads the hypertex driver instead [1].",
         name=("When no driver is given, hyperref picks hxetex if it detects pdfTeX running in PDF mode, but because drivers such as dvips run after the TeX compiler it cannot detect them and loads the hypertex driver instead [1].", "hxetex"))
    fact("en-hyperref-b6-09", H, 44, "A hyperref driver has to provide definitions for eight macros",
         r"Anyone writing a new hyperref driver has to define eight macros, among them \hyper@anchor, \hyper@link and \hyper@linkurl [1].",
         wrong=("eight macros", "new driver"))
    fact("en-hyperref-b6-10", H, 48, "you have to disable hyperref’s footnote support",
         "Since hyperref does not support the footnote package, you need to turn off hyperref's own footnote support with hyperfootnotes=false [1].",
         negation="Since hyperref supports the footnote package, you do not need to turn off hyperref's own footnote support with hyperfootnotes=false [1].")
    fact("en-natbib-b6-01", N, 2, "acts as a single, flexible interface",
         "natbib thus serves as one flexible interface to most of the bibliography styles that are available [1].",
         wrong=("flexible interface",))
    fact("en-natbib-b6-02", N, 4, "switching from author–year to numerical citations is a matter of an option",
         "With natbib, moving from author–year to numerical citations just means setting an option, with no changes to the source text [1].",
         negation="With natbib, moving from author–year to numerical citations is not just a matter of setting an option but requires changes to the source text [1].")
    fact("en-natbib-b6-03", N, 9, r"One can force the first letter to be in upper case with the command \Citet",
         r"To capitalise the first letter of an author name like della Robbia, you can use \Citet instead of \citet, which gives Della Robbia (1998) [1].",
         number=(r"To capitalise the first letter of an author name like della Robbia, you can use \Citet instead of \citet, which gives Della Robbia (1999) [1].", "1999"),
         wrong=(r"\Citet", "upper case"))
    fact("en-natbib-b6-04", N, 15, r"changed from the default [32] by redefining \bibnumfmt",
         r"The numbers in the reference list are printed as [32] by default, but you can change that format by redefining \bibnumfmt, for instance to get a bold 32: instead [1].",
         name=(r"The numbers in the reference list are printed as [32] by default, but you can change that format by redefining \bibfont, for instance to get a bold 32: instead [1].", r"\bibfont"))
    # fmt: on
