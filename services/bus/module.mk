$(eval $(call hl_program,hl-bus,services/bus))
