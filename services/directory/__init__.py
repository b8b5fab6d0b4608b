"""The IVR menu and extension directory, and the hours call takers answer."""
