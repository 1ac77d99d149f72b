"""The model store: where each model of the manifest lives on this machine (shipped in a package, pulled
into the user's folder or Hugging Face's cache), its parts joined, its files checked against their
checksums, and `filmscore models pull` fetching it. The only layer that reaches the network, and only
when asked to pull."""
