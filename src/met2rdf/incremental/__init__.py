"""How a rebuild knows what to redo.

- ``keys``: what a cached result depends on; a note's result key, worked out in one place;
- ``index``: the build index, what a build keeps of each note for the next one;
- ``labels``: which of the vault's own names (titles, aliases) a note could contain, by its
  words, an index of the names and a Bloom filter of the words;
- ``plan``: the vault-wide names, and which notes keep their results and which become jobs;
- ``jobs``: the typed records sent to a worker process and the work it does with them;
- ``workers``: the pool of processes, one per shard of the notes;
- ``vocabulary``: the vocabulary, its graph and its SHACL results in the cache.

The stages' order is :mod:`met2rdf.build`'s; the cache on disk is :mod:`met2rdf.cache`.
"""
