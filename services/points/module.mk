$(eval $(call hl_program,hl-points,services/points))
