$(eval $(call hl_program,hl-alliance,services/alliance,-lcurl))
