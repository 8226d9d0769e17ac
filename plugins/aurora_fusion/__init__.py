"""Aurora's first-party fusion methods, one entry point each in the ``aurora.fusion`` group."""
