"""voiceclone on the command line: ``python -m voiceclone COMMAND`` (``--help``
lists the commands). ``main`` builds the parser and turns every library error
into one line on stderr."""
