import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';

export class RollbackRequestDto {
  @ApiProperty({ description: 'The old version whose document becomes the new latest version', minimum: 1 })
  @IsInt() @Min(1)
  version!: number;
  @ApiPropertyOptional({ maxLength: 1024 })
  @IsOptional() @IsString() @MaxLength(1024)
  comment?: string;
  @ApiPropertyOptional({ description: 'Refuse with 409 unless the scope is at this version' })
  @IsOptional() @IsInt() @Min(0)
  expectedVersion?: number;
}
