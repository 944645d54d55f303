"""One module per ``damo`` subcommand; each wires a reader to a reporter or the engine."""
