"""The command line: parse, build options, call the library. No domain logic."""
