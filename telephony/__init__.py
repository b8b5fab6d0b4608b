"""Twilio's side: webhook signatures, form parsing, TwiML, and the outbound gateway.

It turns Twilio's words into plain calls into ``services`` and knows no city rules.
"""
