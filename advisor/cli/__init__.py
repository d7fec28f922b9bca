"""The command line: thin verbs over the library (parse options, call one function, render, exit)."""
