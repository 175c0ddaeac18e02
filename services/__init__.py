"""The four bounded contexts, and the composition root that runs them (``services.runtime``, ``services.cli``)."""
