from filmscore.cli import main

raise SystemExit(main())
