"""glassnet's version, in a module of its own: the model files record it, and they sit below the modules that
``import glassnet`` pulls in, so they read it here rather than from the package."""

__version__ = "0.1.0"
