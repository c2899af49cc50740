"""The ``progressive`` family: progressive offloading under deadlines (PNC and LimitNet).

Modules (all light: numpy only, solver layers are loaded by the methods):

``profiles``   rate-accuracy profiles as data (shipped catalog + user files)
``traces``     piecewise-constant bandwidth traces, generators, CSV/JSON loading
``codec``      6-bit quantization, per-feature canonical Huffman, 64-byte block framing
``simulator``  the deadline simulator of PNC section IV
``model``      the instance (``problem``: ``config``, ``airtime`` or ``ordering``) and ``evaluate``
``family``     ``FAMILY`` for the common API
"""
