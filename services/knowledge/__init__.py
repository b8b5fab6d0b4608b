"""The knowledge base: the answers call takers read to callers, in English and Spanish."""
