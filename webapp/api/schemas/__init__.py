"""Pydantic models of the API: each validates requests or shapes responses, and together
they generate the OpenAPI document.  One module per seed family; ``common`` is shared."""
