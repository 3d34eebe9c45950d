$(eval $(call hl_program,hl-intake,services/intake))
