"""The city's rules, one module or small package per domain, plus the staff API and shell.

This package never imports ``twilio``; Twilio's side lives in ``telephony``.
"""
