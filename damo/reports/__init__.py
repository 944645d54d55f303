"""Reporters: turn loaded recordings into damo's text views and images.

Each reporter is a class independent of the CLI; ``damo.commands.report_*``
wire them to click options.
"""
