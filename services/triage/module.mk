$(eval $(call hl_program,hl-triage,services/triage))
