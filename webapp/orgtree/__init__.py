"""The admin pages' work: the organisation tree and billing areas (:mod:`.tree`), staff
accounts (:mod:`.staff`) and reading the admin change log (:mod:`.changelog`). Every
change is written to the admin change log in the transaction that makes it."""
