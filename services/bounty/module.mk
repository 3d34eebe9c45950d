$(eval $(call hl_program,hl-bounty,services/bounty))
